/**
 * Alert rules, silences, escalation policies and alert queries: what the alerting service
 * accepts over NATS and the gateway accepts over HTTP (one schema for both edges). Objects are
 * strict: an unknown field in a rule is far more likely a typo than a newer client.
 */
import { z } from 'zod';
import { LabelsSchema } from './fleet-schemas';
import { compileLabelRegex } from './label-regex';
import { SEVERITIES } from './subjects';

const MAX_DURATION_MS = 30 * 24 * 3600_000;
const durationMs = z.number().int().min(0).max(MAX_DURATION_MS);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/, 'label names must match ^[a-zA-Z_][a-zA-Z0-9_]*$');
const metricName = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,127}$/, 'metric names must match ^[a-zA-Z_:][a-zA-Z0-9_:]*$');
export const AlertingIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'ids must be 1-64 characters of A-Z a-z 0-9 _ -');
export const AlertNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'alert names must be 1-128 characters of A-Z a-z 0-9 _ . : -');
const annotations = z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), z.string().max(4096)).refine((a) => Object.keys(a).length <= 32, 'at most 32 annotations');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO-8601 date-time');

export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
/**
 * A label matcher (Prometheus/Alertmanager style). Regexes are RE2 syntax, fully anchored, matched
 * in linear time (label-regex.ts) and compiled here, so a bad or too complex one is a 400.
 */
export const MatcherSchema = z
  .object({ name: labelName, op: z.enum(MATCH_OPS).default('='), value: z.string().max(512) })
  .strict()
  .superRefine((m, ctx) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    const compiled = compileLabelRegex(m.value);
    if ('error' in compiled) ctx.addIssue({ code: 'custom', path: ['value'], message: compiled.error });
  });
export type Matcher = z.infer<typeof MatcherSchema>;
const matchers = z.array(MatcherSchema).max(32);

export const COMPARE_OPS = ['>', '<', '>=', '<=', '==', '!='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export const AGGREGATIONS = ['none', 'max', 'min', 'avg', 'sum'] as const;

export const SelectorSchema = z.object({ metric: metricName, matchers: matchers.default([]) }).strict();
export type Selector = z.infer<typeof SelectorSchema>;

/** Where a rule's notifications go, and how they are batched (Alertmanager's route timings). */
export const RouteSchema = z
  .object({
    channelIds: z.array(AlertingIdSchema).max(32).default([]),
    escalationPolicyId: AlertingIdSchema.optional(),
    /** Labels that form a group; default `['alertname']`. `['...']` groups by every label (one group per alert). */
    groupBy: z.array(z.union([labelName, z.literal('...')])).max(16).optional(),
    groupWaitMs: durationMs.optional(),
    groupIntervalMs: durationMs.min(1_000).optional(),
    repeatIntervalMs: durationMs.min(1_000).optional(),
  })
  .strict();
export type Route = z.infer<typeof RouteSchema>;

const ruleBase = {
  name: AlertNameSchema,
  description: z.string().max(1024).optional(),
  severity: z.enum(SEVERITIES),
  /** How long the condition must hold before the alert fires (pending until then). */
  forMs: durationMs.default(0),
  labels: LabelsSchema.default({}),
  /** Values may use `{{ $labels.<name> }}` and `{{ $value }}` (plain substitution, no code). */
  annotations: annotations.default({}),
  route: RouteSchema.default({ channelIds: [] }),
  enabled: z.boolean().default(true),
};

export const AlertRuleInputSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...ruleBase,
      type: z.literal('threshold'),
      selector: SelectorSchema,
      op: z.enum(COMPARE_OPS),
      value: finite,
      /** Collapse the matching series into one per `by` label set before comparing. */
      aggregate: z.object({ op: z.enum(AGGREGATIONS), by: z.array(labelName).max(16).default([]) }).strict().default({ op: 'none', by: [] }),
    })
    .strict(),
  z
    .object({ ...ruleBase, type: z.literal('rate_of_change'), selector: SelectorSchema, windowMs: durationMs.min(1_000), op: z.enum(COMPARE_OPS), value: finite })
    .strict(),
  z.object({ ...ruleBase, type: z.literal('absence'), selector: SelectorSchema, absentForMs: durationMs.min(1_000) }).strict(),
  z.object({ ...ruleBase, type: z.literal('agent_down'), matchers: matchers.default([]) }).strict(),
]);
export type AlertRuleInput = z.output<typeof AlertRuleInputSchema>;
export type AlertRule = AlertRuleInput & { id: string; createdAt: string; updatedAt: string; builtin?: boolean };
export const AlertingEmptyRequestSchema = z.object({});
export const RuleIdRequestSchema = z.object({ id: AlertingIdSchema }).strict();
export const UpdateRuleRequestSchema = z.object({ id: AlertingIdSchema, rule: AlertRuleInputSchema }).strict();

// ---- silences ---------------------------------------------------------------------------------

export const SilenceInputSchema = z
  .object({
    matchers: matchers.min(1),
    startsAt: isoTime.optional(),
    endsAt: isoTime,
    comment: z.string().min(1).max(1024),
  })
  .strict()
  .refine((s) => Date.parse(s.endsAt) > (s.startsAt ? Date.parse(s.startsAt) : 0), { path: ['endsAt'], message: 'endsAt must be after startsAt' });
export type SilenceInput = z.output<typeof SilenceInputSchema>;
export interface Silence extends SilenceInput {
  id: string;
  startsAt: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}
export const CreateSilenceRequestSchema = z.object({ silence: SilenceInputSchema, createdBy: z.string().max(128) }).strict();
export const UpdateSilenceRequestSchema = z.object({ id: AlertingIdSchema, silence: SilenceInputSchema, createdBy: z.string().max(128) }).strict();

// ---- escalation policies ----------------------------------------------------------------------

export const EscalationLevelSchema = z
  .object({ name: z.string().max(128).optional(), delayMs: durationMs, channelIds: z.array(AlertingIdSchema).min(1).max(32) })
  .strict();
export type EscalationLevel = z.infer<typeof EscalationLevelSchema>;
const levels = z.array(EscalationLevelSchema).min(1).max(16);
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24h)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

export const EscalationScheduleSchema = z
  .object({
    timeZone,
    /** ISO weekdays (1 = Monday … 7 = Sunday) and local start/end (end exclusive). */
    businessHours: z.object({ days: z.array(z.number().int().min(1).max(7)).min(1).max(7), start: clock, end: clock }).strict(),
    inHours: levels,
    afterHours: levels,
  })
  .strict();
export type EscalationSchedule = z.infer<typeof EscalationScheduleSchema>;

export const EscalationPolicyInputSchema = z
  .object({
    name: z.string().min(1).max(128),
    levels: levels.optional(),
    schedule: EscalationScheduleSchema.optional(),
    /** After the last level: 0 = stop, N = start over N more times, -1 = until acknowledged. */
    repeat: z.number().int().min(-1).max(100).default(0),
  })
  .strict()
  .refine((p) => (p.levels === undefined) !== (p.schedule === undefined), { path: ['levels'], message: 'give exactly one of levels or schedule' });
export type EscalationPolicyInput = z.output<typeof EscalationPolicyInputSchema>;
export type EscalationPolicy = EscalationPolicyInput & { id: string; createdAt: string; updatedAt: string };
export const UpdatePolicyRequestSchema = z.object({ id: AlertingIdSchema, policy: EscalationPolicyInputSchema }).strict();

// ---- alerts -----------------------------------------------------------------------------------

export const ALERT_LIST_STATES = ['pending', 'firing', 'resolved', 'acknowledged', 'silenced', 'inhibited'] as const;
export const ListAlertsRequestSchema = z
  .object({
    state: z.enum(ALERT_LIST_STATES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    labels: LabelsSchema.optional(),
    limit: z.number().int().min(1).max(1000).default(500),
  })
  .strict();
export type ListAlertsRequest = z.output<typeof ListAlertsRequestSchema>;

/** HTTP body of `POST /v1/alerts/:fingerprint/ack`. */
export const AckBodySchema = z
  .object({ expiresInMs: z.number().int().min(1_000).max(7 * 24 * 3600_000).default(3600_000), comment: z.string().max(1024).optional() })
  .strict();
export const AckRequestSchema = z
  .object({
    fingerprint: z.string().regex(/^[0-9a-f]{16,64}$/, 'fingerprint must be hex'),
    by: z.string().max(128),
    expiresInMs: z.number().int().min(1_000).max(7 * 24 * 3600_000).default(3600_000),
    comment: z.string().max(1024).optional(),
  })
  .strict();
export type AckRequest = z.output<typeof AckRequestSchema>;

/** One alert as `GET /v1/alerts` shows it. */
export interface AlertView {
  fingerprint: string;
  name: string;
  severity: (typeof SEVERITIES)[number];
  state: 'pending' | 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  source: string;
  value: number | null;
  startsAt: string;
  endsAt: string | null;
  silencedBy: string[];
  inhibited: boolean;
  ack: { by: string; at: string; expiresAt: string; comment?: string } | null;
  escalation: { policyId: string; level: number; loop: number; nextAt: string | null } | null;
}
