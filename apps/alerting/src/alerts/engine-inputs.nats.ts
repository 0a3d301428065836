/**
 * What the engine listens to, decoded and validated at the edge: agent metric batches, the
 * collector's fleet samples, liveness events and alerts raised by other services. Every replica
 * subscribes without a queue group (each evaluates everything; state transitions are
 * compare-and-set, so only one publishes). Malformed input is counted and dropped.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { type AgentLivenessEvent, FLEET_AGENT_ID, LabelsSchema, MetricBatchSchema, type Names, RaiseAlertSchema } from '@sb/contracts';
import { decode } from '@sb/messaging';
import { z } from 'zod';
import type { AlertingEngine } from '../engine/alerting-engine';

const MAX_BYTES = 8 * 1024 * 1024;
const FleetBatchSchema = MetricBatchSchema.extend({ agentId: z.string().max(64) });
const LivenessSchema = z.object({
  agentId: z.string().min(1).max(64),
  state: z.enum(['up', 'down', 'left']),
  reason: z.string().max(256).default(''),
  at: z.string().default(''),
  lastHeartbeatAt: z.string().nullable().default(null),
  host: z.string().max(253).default('unknown'),
  capabilities: z.array(z.string()).default([]),
  labels: LabelsSchema.default({}),
  tasks: z.array(z.unknown()).default([]),
});

export function subscribeEngineInputs(nc: NatsConnection, n: Names, engine: AlertingEngine, onInvalid: (input: string) => void = () => undefined): Subscription[] {
  const on = <S extends z.ZodType>(subject: string, input: string, schema: S, handle: (v: z.output<S>) => void): Subscription =>
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        let parsed: z.ZodSafeParseResult<z.output<S>>;
        try {
          parsed = schema.safeParse(decode(msg.data, MAX_BYTES));
        } catch {
          onInvalid(input);
          return;
        }
        if (parsed.success) handle(parsed.data);
        else onInvalid(input);
      },
    });
  return [
    on(n.agents.metricsAll, 'metrics', MetricBatchSchema, (b) => engine.onMetrics(b)),
    on(n.fleet.samples, 'fleet', FleetBatchSchema, (b) => engine.onMetrics({ ...b, agentId: FLEET_AGENT_ID })),
    ...(['down', 'up', 'left'] as const).map((s) => on(n.agents.livenessOf(s), 'liveness', LivenessSchema, (e) => engine.onLiveness(e as AgentLivenessEvent))),
    on(n.alerts.raise, 'raise', RaiseAlertSchema, (r) => engine.onRaise(r)),
  ];
}
