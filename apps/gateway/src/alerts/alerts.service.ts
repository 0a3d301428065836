/**
 * Alerts, alert rules, silences and escalation policies at the edge, behind the AuthGuard (admin
 * to change rules and policies; alerts:write to silence and acknowledge; alerts:read to read):
 * validate strictly with the contract schemas (bad input → 400 naming the field, nothing
 * forwarded), forward to the alerting service. Who silenced or acknowledged is the caller's key id.
 */
import {
  AckBodySchema,
  AlertingEndpoints,
  AlertRuleInputSchema,
  EscalationPolicyInputSchema,
  ListAlertsRequestSchema,
  type Principal,
  RuleIdRequestSchema,
  SilenceInputSchema,
} from '@sb/contracts';
import { type Bus, validate } from '@sb/messaging';
import { z } from 'zod';

/** `?state=&severity=&label=agent=w1&label=host=h1&limit=` */
export const ListAlertsQuerySchema = z
  .object({
    state: z.string().optional(),
    severity: z.string().optional(),
    label: z.union([z.string(), z.array(z.string())]).optional(),
    limit: z.coerce.number().optional(),
  })
  .strict();
export type AlertsQuery = z.output<typeof ListAlertsQuerySchema>;
const FingerprintSchema = z.object({ fingerprint: z.string().regex(/^[0-9a-f]{16,64}$/, 'fingerprint must be hex') });

type Kind = 'rules' | 'silences' | 'policies';

export class AlertsService {
  constructor(private readonly bus: Bus) {}

  listAlerts(q: AlertsQuery) {
    const labels: Record<string, string> = {};
    for (const l of q.label === undefined ? [] : Array.isArray(q.label) ? q.label : [q.label]) {
      const i = l.indexOf('=');
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
    }
    const req = validate(ListAlertsRequestSchema, { state: q.state, severity: q.severity, limit: q.limit, labels: q.label === undefined ? undefined : labels });
    return this.bus.request(AlertingEndpoints.listAlerts, req);
  }

  ack(p: Principal, fingerprint: string, body: unknown) {
    const { fingerprint: fp } = validate(FingerprintSchema, { fingerprint });
    const b = validate(AckBodySchema, body === undefined ? {} : body);
    return this.bus.request(AlertingEndpoints.ackAlert, { fingerprint: fp, by: who(p), expiresInMs: b.expiresInMs, comment: b.comment });
  }

  create(kind: Kind, p: Principal, body: unknown) {
    switch (kind) {
      case 'rules':
        return this.bus.request(AlertingEndpoints.createRule, validate(AlertRuleInputSchema, body));
      case 'silences':
        return this.bus.request(AlertingEndpoints.createSilence, { silence: validate(SilenceInputSchema, body), createdBy: who(p) });
      case 'policies':
        return this.bus.request(AlertingEndpoints.createPolicy, validate(EscalationPolicyInputSchema, body));
    }
  }

  list(kind: Kind) {
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.listRules : kind === 'silences' ? E.listSilences : E.listPolicies, {});
  }

  get(kind: Kind, id: string) {
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.getRule : kind === 'silences' ? E.getSilence : E.getPolicy, validate(RuleIdRequestSchema, { id }));
  }

  replace(kind: Kind, p: Principal, id: string, body: unknown) {
    const req = validate(RuleIdRequestSchema, { id });
    switch (kind) {
      case 'rules':
        return this.bus.request(AlertingEndpoints.updateRule, { id: req.id, rule: validate(AlertRuleInputSchema, body) });
      case 'silences':
        return this.bus.request(AlertingEndpoints.updateSilence, { id: req.id, silence: validate(SilenceInputSchema, body), createdBy: who(p) });
      case 'policies':
        return this.bus.request(AlertingEndpoints.updatePolicy, { id: req.id, policy: validate(EscalationPolicyInputSchema, body) });
    }
  }

  remove(kind: Kind, id: string) {
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.deleteRule : kind === 'silences' ? E.deleteSilence : E.deletePolicy, validate(RuleIdRequestSchema, { id }));
  }
}

const who = (p: Principal) => `${p.tenantId}/${p.keyId}`;
