/** NATS adapter: recovery's dead-letter endpoints, and dead letters as they happen (the poison watch). No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { type ParsedReqOf, Events, ResilienceEndpoints } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { DeadLetteredHandler } from './dead-lettered.handler';
import { DeadLettersHandler } from './dead-letters.handler';

type Req<E> = ParsedReqOf<E>;
const E = ResilienceEndpoints;

@Controller()
export class DeadLettersNatsController {
  constructor(
    @Inject(DeadLettersHandler) private readonly h: DeadLettersHandler,
    @Inject(DeadLetteredHandler) private readonly dead: DeadLetteredHandler,
  ) {}

  @MessagePattern(E.listDeadLetters)
  list(@Payload(contract(E.listDeadLetters)) req: Req<typeof E.listDeadLetters>) {
    return this.h.list(req);
  }

  @MessagePattern(E.getDeadLetter)
  get(@Payload(contract(E.getDeadLetter)) req: Req<typeof E.getDeadLetter>) {
    return this.h.get(req.id, req.tenantId);
  }

  @MessagePattern(E.redriveDeadLetter)
  redrive(@Payload(contract(E.redriveDeadLetter)) req: Req<typeof E.redriveDeadLetter>) {
    return this.h.redrive(req);
  }

  @MessagePattern(E.checkRedrive)
  checkRedrive(@Payload(contract(E.checkRedrive)) req: Req<typeof E.checkRedrive>) {
    return this.h.checkRedrive(req);
  }

  @MessagePattern(E.deleteDeadLetter)
  delete(@Payload(contract(E.deleteDeadLetter)) req: Req<typeof E.deleteDeadLetter>) {
    return this.h.delete(req.id, req.tenantId);
  }

  @MessagePattern(E.purgeDeadLetters)
  purge(@Payload(contract(E.purgeDeadLetters)) req: Req<typeof E.purgeDeadLetters>) {
    return this.h.purge(req.capability, req.tenantId);
  }

  @EventPattern(Events.deadLettered)
  deadLettered(@Payload() entry: unknown) {
    this.dead.onDeadLetter(entry);
  }
}
