/** Alerting's request/reply endpoints (internal; the gateway's /v1/alert-rules, /v1/silences, /v1/escalation-policies and /v1/alerts forward here). */
import type { z } from 'zod';
import type { Endpoint } from './endpoints';
import type { Names } from './subjects';
import * as A from './alerting-schemas';

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const AlertingEndpoints = {
  createRule: ep<typeof A.AlertRuleInputSchema, A.AlertRule>((n) => n.alerting.endpoint('rules', 'create'), A.AlertRuleInputSchema),
  listRules: ep<typeof A.AlertingEmptyRequestSchema, A.AlertRule[]>((n) => n.alerting.endpoint('rules', 'list'), A.AlertingEmptyRequestSchema),
  getRule: ep<typeof A.RuleIdRequestSchema, A.AlertRule>((n) => n.alerting.endpoint('rules', 'get'), A.RuleIdRequestSchema),
  updateRule: ep<typeof A.UpdateRuleRequestSchema, A.AlertRule>((n) => n.alerting.endpoint('rules', 'update'), A.UpdateRuleRequestSchema),
  deleteRule: ep<typeof A.RuleIdRequestSchema, { id: string; deleted: true }>((n) => n.alerting.endpoint('rules', 'delete'), A.RuleIdRequestSchema),

  createSilence: ep<typeof A.CreateSilenceRequestSchema, A.Silence>((n) => n.alerting.endpoint('silences', 'create'), A.CreateSilenceRequestSchema),
  listSilences: ep<typeof A.AlertingEmptyRequestSchema, A.Silence[]>((n) => n.alerting.endpoint('silences', 'list'), A.AlertingEmptyRequestSchema),
  getSilence: ep<typeof A.RuleIdRequestSchema, A.Silence>((n) => n.alerting.endpoint('silences', 'get'), A.RuleIdRequestSchema),
  updateSilence: ep<typeof A.UpdateSilenceRequestSchema, A.Silence>((n) => n.alerting.endpoint('silences', 'update'), A.UpdateSilenceRequestSchema),
  deleteSilence: ep<typeof A.RuleIdRequestSchema, { id: string; deleted: true }>((n) => n.alerting.endpoint('silences', 'delete'), A.RuleIdRequestSchema),

  createPolicy: ep<typeof A.EscalationPolicyInputSchema, A.EscalationPolicy>((n) => n.alerting.endpoint('policies', 'create'), A.EscalationPolicyInputSchema),
  listPolicies: ep<typeof A.AlertingEmptyRequestSchema, A.EscalationPolicy[]>((n) => n.alerting.endpoint('policies', 'list'), A.AlertingEmptyRequestSchema),
  getPolicy: ep<typeof A.RuleIdRequestSchema, A.EscalationPolicy>((n) => n.alerting.endpoint('policies', 'get'), A.RuleIdRequestSchema),
  updatePolicy: ep<typeof A.UpdatePolicyRequestSchema, A.EscalationPolicy>((n) => n.alerting.endpoint('policies', 'update'), A.UpdatePolicyRequestSchema),
  deletePolicy: ep<typeof A.RuleIdRequestSchema, { id: string; deleted: true }>((n) => n.alerting.endpoint('policies', 'delete'), A.RuleIdRequestSchema),

  listAlerts: ep<typeof A.ListAlertsRequestSchema, A.AlertView[]>((n) => n.alerting.endpoint('alerts', 'list'), A.ListAlertsRequestSchema),
  ackAlert: ep<typeof A.AckRequestSchema, A.AlertView>((n) => n.alerting.endpoint('alerts', 'ack'), A.AckRequestSchema),
} as const;
