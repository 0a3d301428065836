/**
 * Test fixture: an engine on real NATS (JetStream events, KV state) with a manual clock, a
 * recording event sink and an outbox that keeps each notification id once (the interface's
 * contract). Not used by the service.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { type AlertEvent, type AlertNotification, type MetricBatch, names } from '@sb/contracts';
import { ensureTopology } from '@sb/messaging';
import { type AlertingParts, createAlerting } from '../alerting.factory';
import { DEFAULT_INHIBIT_RULES } from '../alerting-config';
import type { NotificationOutbox } from '../channels/notification-outbox';
import { ManualClock } from '@sb/observability';
import { type AlertEventSink, DEFAULT_ENGINE_SETTINGS, type EngineSettings } from './engine-deps';
import { JetStreamEventSink } from './jetstream-event-sink';

export class MemoryOutbox implements NotificationOutbox {
  readonly byId = new Map<string, AlertNotification>();
  readonly list: AlertNotification[] = [];
  calls = 0;
  async enqueue(n: AlertNotification): Promise<void> {
    this.calls += 1;
    if (this.byId.has(n.id)) return;
    this.byId.set(n.id, n);
    this.list.push(n);
  }
  ofKind(kind: AlertNotification['kind']): AlertNotification[] {
    return this.list.filter((n) => n.kind === kind);
  }
}

export class RecordingSink implements AlertEventSink {
  readonly events: AlertEvent[] = [];
  constructor(private readonly inner: AlertEventSink) {}
  async publish(e: AlertEvent, msgId: string): Promise<void> {
    await this.inner.publish(e, msgId);
    this.events.push(e);
  }
  of(state: AlertEvent['state'], name?: string): AlertEvent[] {
    return this.events.filter((e) => e.state === state && (name === undefined || e.name === name));
  }
}

export interface TestEngine extends AlertingParts {
  clock: ManualClock;
  outbox: NotificationOutbox;
  sink: RecordingSink;
  /** Advance the clock and run one tick. */
  step(ms: number): Promise<void>;
  gauge(agentId: string, metric: string, value: number, labels?: Record<string, string>): Promise<void>;
}

export const TEST_SETTINGS: EngineSettings = {
  ...DEFAULT_ENGINE_SETTINGS,
  groupWaitMs: 10_000,
  groupIntervalMs: 60_000,
  repeatIntervalMs: 3600_000,
  defaultChannelIds: ['ops'],
};

export async function startTestEngine(
  nc: NatsConnection,
  prefix: string,
  opts: { clock?: ManualClock; outbox?: NotificationOutbox; settings?: Partial<EngineSettings> } = {},
): Promise<TestEngine> {
  const clock = opts.clock ?? new ManualClock();
  const outbox = opts.outbox ?? new MemoryOutbox();
  const n = names(prefix);
  const js = jetstream(nc);
  const sink = new RecordingSink(new JetStreamEventSink(js, n));
  const topology = await ensureTopology({ jsm: await jetstreamManager(nc), kvm: new Kvm(js), names: n }, 'alerting');
  const parts = await createAlerting({
    js,
    topology,
    names: n,
    clock,
    outbox,
    events: sink,
    settings: { ...TEST_SETTINGS, ...opts.settings },
    inhibitRules: DEFAULT_INHIBIT_RULES,
  });
  return {
    ...parts,
    clock,
    outbox,
    sink,
    async step(ms) {
      clock.advance(ms);
      await parts.engine.tick();
    },
    async gauge(agentId, metric, value, labels = {}) {
      const batch: MetricBatch = { agentId, samples: [{ type: 'gauge', name: metric, labels, value }] };
      parts.engine.onMetrics(batch);
      await parts.engine.settle();
    },
  };
}
