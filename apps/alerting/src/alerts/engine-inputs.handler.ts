/**
 * What the engine listens to, validated at the edge: agents' samples as the collector validated
 * and forwarded them (`fleet.validatedMetrics`, never the agents' own subjects), the collector's
 * fleet samples, liveness events and alerts raised by other services (AlertingEvents in
 * libs/contracts). A malformed input (not JSON, too large, or not the expected shape; the
 * transport hands those over as `undefined` or as they came) is counted by input and refused
 * with REQUEST.INVALID, which the transport records against the event and drops.
 * `sb_fleet_*` samples count only on `fleet.samples`: anywhere else they are dropped and counted.
 */
import {
  type AgentLivenessEvent,
  FLEET_AGENT_ID,
  isReservedFleetMetric,
  LabelsSchema,
  MetricBatchSchema,
  RaiseAlertSchema,
  ValidationError,
} from '@sb/contracts';
import { z } from 'zod';
import type { AlertingEngine } from '../engine/alerting-engine';

export type EngineInput = 'metrics' | 'fleet' | 'liveness' | 'raise';

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
});

export class EngineInputsHandler {
  constructor(
    private readonly engine: Pick<AlertingEngine, 'onMetrics' | 'onLiveness' | 'onRaise'>,
    private readonly onInvalid: (input: EngineInput) => void = () => undefined,
    /** Samples with a reserved `sb_fleet_*` name that did not come from the collector's fleet samples. */
    private readonly onReserved: (n: number) => void = () => undefined,
  ) {}

  /** An agent's samples the collector accepted (`fleet.validatedMetrics`). */
  metrics(body: unknown): void {
    const batch = this.parse('metrics', MetricBatchSchema, body);
    const samples = batch.samples.filter((s) => !isReservedFleetMetric(s.name));
    if (samples.length < batch.samples.length) this.onReserved(batch.samples.length - samples.length);
    if (samples.length > 0) this.engine.onMetrics({ ...batch, samples });
  }

  fleetSamples(body: unknown): void {
    this.engine.onMetrics({ ...this.parse('fleet', FleetBatchSchema, body), agentId: FLEET_AGENT_ID });
  }

  liveness(body: unknown): void {
    this.engine.onLiveness(this.parse('liveness', LivenessSchema, body) as AgentLivenessEvent);
  }

  raise(body: unknown): void {
    this.engine.onRaise(this.parse('raise', RaiseAlertSchema, body));
  }

  private parse<S extends z.ZodType>(input: EngineInput, schema: S, body: unknown): z.output<S> {
    const parsed = body === undefined ? undefined : schema.safeParse(body);
    if (parsed?.success) return parsed.data;
    this.onInvalid(input);
    throw new ValidationError(`Malformed ${input} input; dropped`);
  }
}
