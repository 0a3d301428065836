/** NATS adapter: the workers' outcome batches, for the circuit breakers. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import { BreakersService } from './breakers.service';

@Controller()
export class BreakersNatsController {
  constructor(@Inject(BreakersService) private readonly breakers: BreakersService) {}

  @EventPattern(Events.outcomes)
  outcomes(@Payload() body: unknown) {
    this.breakers.onOutcomes(body);
  }
}
