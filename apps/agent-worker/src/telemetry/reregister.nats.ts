/** NATS adapter: the collector's "I do not know you" ask, addressed to this agent. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import { AgentTelemetry } from './agent-telemetry.service';

@Controller()
export class ReregisterNatsController {
  constructor(@Inject(AgentTelemetry) private readonly telemetry: AgentTelemetry) {}

  /** `…internal.fleet.reregister.<agentId>`: the worker subscribes with its WORKER_ID as instance id. */
  @EventPattern(Events.reregister)
  reregister(): void {
    this.telemetry.askedToRegister();
  }
}
