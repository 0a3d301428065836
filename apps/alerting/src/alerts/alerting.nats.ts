/**
 * NATS adapter: alerting's internal endpoints (rules, silences, policies, alerts), declared for
 * the bus transport. No logic here.
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AlertingEndpoints as E, type ParsedReqOf } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { ALERTING_PARTS, type AlertingParts } from '../alerting.factory';

type Req<X> = ParsedReqOf<X>;

@Controller()
export class AlertingNatsController {
  constructor(@Inject(ALERTING_PARTS) private readonly parts: AlertingParts) {}

  @MessagePattern(E.createRule)
  createRule(@Payload(contract(E.createRule)) req: Req<typeof E.createRule>) {
    return this.parts.config.createRule(req);
  }

  @MessagePattern(E.listRules)
  listRules(@Payload(contract(E.listRules)) _req: Req<typeof E.listRules>) {
    return this.parts.config.rules.list();
  }

  @MessagePattern(E.getRule)
  getRule(@Payload(contract(E.getRule)) req: Req<typeof E.getRule>) {
    return this.parts.config.rules.get(req.id);
  }

  @MessagePattern(E.updateRule)
  updateRule(@Payload(contract(E.updateRule)) req: Req<typeof E.updateRule>) {
    return this.parts.config.updateRule(req.id, req.rule);
  }

  @MessagePattern(E.deleteRule)
  deleteRule(@Payload(contract(E.deleteRule)) req: Req<typeof E.deleteRule>) {
    return this.parts.config.rules.delete(req.id);
  }

  @MessagePattern(E.createSilence)
  createSilence(@Payload(contract(E.createSilence)) req: Req<typeof E.createSilence>) {
    return this.parts.config.createSilence(req);
  }

  @MessagePattern(E.listSilences)
  listSilences(@Payload(contract(E.listSilences)) _req: Req<typeof E.listSilences>) {
    return this.parts.config.silences.list();
  }

  @MessagePattern(E.getSilence)
  getSilence(@Payload(contract(E.getSilence)) req: Req<typeof E.getSilence>) {
    return this.parts.config.silences.get(req.id);
  }

  @MessagePattern(E.updateSilence)
  updateSilence(@Payload(contract(E.updateSilence)) req: Req<typeof E.updateSilence>) {
    return this.parts.config.updateSilence(req.id, { silence: req.silence, createdBy: req.createdBy });
  }

  @MessagePattern(E.deleteSilence)
  deleteSilence(@Payload(contract(E.deleteSilence)) req: Req<typeof E.deleteSilence>) {
    return this.parts.config.silences.delete(req.id);
  }

  @MessagePattern(E.createPolicy)
  createPolicy(@Payload(contract(E.createPolicy)) req: Req<typeof E.createPolicy>) {
    return this.parts.config.policies.create(req);
  }

  @MessagePattern(E.listPolicies)
  listPolicies(@Payload(contract(E.listPolicies)) _req: Req<typeof E.listPolicies>) {
    return this.parts.config.policies.list();
  }

  @MessagePattern(E.getPolicy)
  getPolicy(@Payload(contract(E.getPolicy)) req: Req<typeof E.getPolicy>) {
    return this.parts.config.policies.get(req.id);
  }

  @MessagePattern(E.updatePolicy)
  updatePolicy(@Payload(contract(E.updatePolicy)) req: Req<typeof E.updatePolicy>) {
    return this.parts.config.policies.update(req.id, req.policy);
  }

  @MessagePattern(E.deletePolicy)
  deletePolicy(@Payload(contract(E.deletePolicy)) req: Req<typeof E.deletePolicy>) {
    return this.parts.config.deletePolicy(req.id);
  }

  @MessagePattern(E.listAlerts)
  listAlerts(@Payload(contract(E.listAlerts)) req: Req<typeof E.listAlerts>) {
    return this.parts.engine.list(req);
  }

  @MessagePattern(E.ackAlert)
  ackAlert(@Payload(contract(E.ackAlert)) req: Req<typeof E.ackAlert>) {
    return this.parts.engine.ack(req.fingerprint, req.by, req.expiresInMs, req.comment);
  }
}
