/** The alerting engine's settings, spread into the alerting service's config schema. */
import { env } from '@sb/config';
import { MatcherSchema } from '@sb/contracts';
import { z } from 'zod';
import type { InhibitRule } from './engine/alert-record';

const DAY_MS = 24 * 3600_000;

const InhibitRulesSchema = z.array(
  z.object({ source: z.array(MatcherSchema).min(1), target: z.array(MatcherSchema).min(1), equal: z.array(z.string().max(64)).max(16).default([]) }).strict(),
);

/** A down host or a NATS outage inhibits the per-agent alerts it causes; a critical alert inhibits its warning twin. */
export const DEFAULT_INHIBIT_RULES: InhibitRule[] = [
  { source: [{ name: 'alertname', op: '=~', value: 'host_down|HostDown' }], target: [{ name: 'agent', op: '=~', value: '.+' }], equal: ['host'] },
  { source: [{ name: 'alertname', op: '=~', value: 'nats_outage|NatsOutage' }], target: [{ name: 'agent', op: '=~', value: '.+' }], equal: [] },
  { source: [{ name: 'severity', op: '=', value: 'critical' }], target: [{ name: 'severity', op: '=', value: 'warning' }], equal: ['alertname', 'agent', 'capability'] },
];

const inhibitRules = z
  .string()
  .optional()
  .transform((v, ctx): InhibitRule[] => {
    if (v === undefined) return DEFAULT_INHIBIT_RULES;
    try {
      return InhibitRulesSchema.parse(JSON.parse(v));
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `expected a JSON array of {source, target, equal} inhibit rules (${(e as Error).message.slice(0, 200)})` });
      return z.NEVER;
    }
  });

export const alertingEngineConfigShape = {
  /** Period of the clock tick that drives `for`, absence, staleness, group timers, escalation and ack expiry. */
  ALERTING_TICK_MS: env.int(1_000, 50, 60_000),
  ALERTING_GROUP_WAIT_MS: env.int(30_000, 0, DAY_MS),
  ALERTING_GROUP_INTERVAL_MS: env.int(5 * 60_000, 1_000, DAY_MS),
  ALERTING_REPEAT_INTERVAL_MS: env.int(4 * 3600_000, 1_000, 30 * DAY_MS),
  /** Channels for rules without channels or policy, and for alerts other services raise. */
  ALERTING_DEFAULT_CHANNEL_IDS: env.csv([]),
  /** A series with no sample for this long is dropped and its alert resolves. */
  ALERTING_STALE_AFTER_MS: env.int(5 * 60_000, 1_000, DAY_MS),
  /** How long a resolved alert stays listed after its resolution was notified. */
  ALERTING_RESOLVED_RETENTION_MS: env.int(15 * 60_000, 0, 30 * DAY_MS),
  /** Raise HostDown{host} when every agent of a host (at least this many) is down; 0 disables. */
  ALERTING_HOST_DOWN_MIN_AGENTS: env.int(2, 0, 10_000),
  /** JSON array of inhibit rules replacing the defaults. */
  ALERTING_INHIBIT_RULES: inhibitRules,
  /** Create the default rules on first start (create-only; edits and deletes are kept). */
  ALERTING_DEFAULT_RULES: env.bool(true),
  /** Series all rules hold together; a sample that would start one more is dropped and counted (bounded memory). */
  ALERTING_MAX_SERIES: env.int(50_000, 1, 10_000_000),
  /** Silences kept at once (expired ones count until pruned, a day after they end); one more is a 409. */
  ALERTING_MAX_SILENCES: env.int(1_000, 1, 100_000),
  /** Matchers in one silence (the contract's own ceiling is 32). */
  ALERTING_SILENCE_MAX_MATCHERS: env.int(32, 1, 32),
  /** How far ahead of now a silence may end. */
  ALERTING_SILENCE_MAX_DURATION_MS: env.int(90 * DAY_MS, 60_000, 3650 * DAY_MS),
  ALERTING_STREAM_MAX_AGE_MS: env.int(30 * DAY_MS, 60_000, 3650 * DAY_MS),
  ALERTING_STREAM_MAX_BYTES: env.int(1024 * 1024 * 1024, 1024 * 1024, Number.MAX_SAFE_INTEGER),
};
export const alertingEngineConfigSchema = z.object(alertingEngineConfigShape);
export type AlertingEngineConfig = z.output<typeof alertingEngineConfigSchema>;
