/** NATS adapter: the incidents endpoints, and alerts to link to open incidents. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { type AlertEvent, type ParsedReqOf, Events, RecoveryIncidentEndpoints as E } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { AlertLinker } from './alert-linker.handler';
import { IncidentQueriesHandler } from './incident-queries.handler';

type Req<T> = ParsedReqOf<T>;

@Controller()
export class IncidentsNatsController {
  constructor(
    @Inject(IncidentQueriesHandler) private readonly queries: IncidentQueriesHandler,
    @Inject(AlertLinker) private readonly linker: AlertLinker,
  ) {}

  @MessagePattern(E.list)
  list(@Payload(contract(E.list)) q: Req<typeof E.list>) {
    return this.queries.list(q);
  }

  @MessagePattern(E.get)
  get(@Payload(contract(E.get)) req: Req<typeof E.get>) {
    return this.queries.get(req.id);
  }

  @EventPattern(Events.alert)
  alert(@Payload() ev: AlertEvent | undefined) {
    return this.linker.onAlert(ev);
  }
}
