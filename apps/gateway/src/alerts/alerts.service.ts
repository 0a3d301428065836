/**
 * Alerts, alert rules, silences and escalation policies at the edge: authenticate (admin to
 * change rules and policies; alerts:write to silence and acknowledge; alerts:read to read),
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
import type { Authenticator } from '../auth/authenticator';

/** `?state=&severity=&label=agent=w1&label=host=h1&limit=` */
const ListAlertsQuerySchema = z
  .object({
    state: z.string().optional(),
    severity: z.string().optional(),
    label: z.union([z.string(), z.array(z.string())]).optional(),
    limit: z.coerce.number().optional(),
  })
  .strict();
const FingerprintSchema = z.object({ fingerprint: z.string().regex(/^[0-9a-f]{16,64}$/, 'fingerprint must be hex') });

type Kind = 'rules' | 'silences' | 'policies';

export class AlertsService {
  constructor(
    private readonly auth: Authenticator,
    private readonly bus: Bus,
  ) {}

  async listAlerts(authorization: string | undefined, query: unknown) {
    await this.auth.authenticate(authorization, 'alerts:read');
    const q = validate(ListAlertsQuerySchema, query ?? {});
    const labels: Record<string, string> = {};
    for (const l of q.label === undefined ? [] : Array.isArray(q.label) ? q.label : [q.label]) {
      const i = l.indexOf('=');
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
    }
    const req = validate(ListAlertsRequestSchema, { state: q.state, severity: q.severity, limit: q.limit, labels: q.label === undefined ? undefined : labels });
    return this.bus.request(AlertingEndpoints.listAlerts, req);
  }

  async ack(authorization: string | undefined, fingerprint: string, body: unknown) {
    const p = await this.auth.authenticate(authorization, 'alerts:write');
    const { fingerprint: fp } = validate(FingerprintSchema, { fingerprint });
    const b = validate(AckBodySchema, body ?? {});
    return this.bus.request(AlertingEndpoints.ackAlert, { fingerprint: fp, by: who(p), expiresInMs: b.expiresInMs, comment: b.comment });
  }

  async create(kind: Kind, authorization: string | undefined, body: unknown) {
    const p = await this.writer(kind, authorization);
    switch (kind) {
      case 'rules':
        return this.bus.request(AlertingEndpoints.createRule, validate(AlertRuleInputSchema, body));
      case 'silences':
        return this.bus.request(AlertingEndpoints.createSilence, { silence: validate(SilenceInputSchema, body), createdBy: who(p) });
      case 'policies':
        return this.bus.request(AlertingEndpoints.createPolicy, validate(EscalationPolicyInputSchema, body));
    }
  }

  async list(kind: Kind, authorization: string | undefined) {
    await this.auth.authenticate(authorization, 'alerts:read');
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.listRules : kind === 'silences' ? E.listSilences : E.listPolicies, {});
  }

  async get(kind: Kind, authorization: string | undefined, id: string) {
    await this.auth.authenticate(authorization, 'alerts:read');
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.getRule : kind === 'silences' ? E.getSilence : E.getPolicy, validate(RuleIdRequestSchema, { id }));
  }

  async replace(kind: Kind, authorization: string | undefined, id: string, body: unknown) {
    const p = await this.writer(kind, authorization);
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

  async remove(kind: Kind, authorization: string | undefined, id: string) {
    await this.writer(kind, authorization);
    const E = AlertingEndpoints;
    return this.bus.request(kind === 'rules' ? E.deleteRule : kind === 'silences' ? E.deleteSilence : E.deletePolicy, validate(RuleIdRequestSchema, { id }));
  }

  /** Rules and policies are platform configuration (admin); silences are an operator's tool (alerts:write). */
  private writer(kind: Kind, authorization: string | undefined): Promise<Principal> {
    return this.auth.authenticate(authorization, kind === 'silences' ? 'alerts:write' : 'admin');
  }
}

const who = (p: Principal) => `${p.tenantId}/${p.keyId}`;
