/**
 * The durable pull consumers a worker needs (one per hosted capability and priority), and the
 * capability catalog entries that tell gateways these capabilities exist.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { type Names, type Priority, PRIORITIES } from '@sb/contracts';
import type { KV } from '@nats-io/kv';

const NANOS_PER_MS = 1_000_000;

export interface ConsumerSettings {
  ackWaitMs: number;
  maxAttempts: number;
}

export async function ensureConsumers(jsm: JetStreamManager, n: Names, capabilities: string[], s: ConsumerSettings): Promise<void> {
  const jobs: Promise<unknown>[] = [];
  for (const capability of capabilities) {
    for (const priority of PRIORITIES) jobs.push(ensureConsumer(jsm, n, capability, priority, s));
  }
  await Promise.all(jobs);
}

async function ensureConsumer(jsm: JetStreamManager, n: Names, capability: string, priority: Priority, s: ConsumerSettings): Promise<void> {
  const durable = n.queue.consumer(capability, priority);
  const config = {
    durable_name: durable,
    filter_subject: n.queue.subject(capability, priority),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: s.ackWaitMs * NANOS_PER_MS,
    // The worker dead-letters at maxAttempts itself; this is the server-side backstop for crash loops.
    max_deliver: s.maxAttempts * 2 + 5,
    max_ack_pending: 100_000,
    max_waiting: 4_096,
  };
  try {
    await jsm.consumers.info(n.queue.stream, durable);
    await jsm.consumers.update(n.queue.stream, durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver, max_ack_pending: config.max_ack_pending });
  } catch {
    try {
      await jsm.consumers.add(n.queue.stream, config);
    } catch (e) {
      if (!/already|exists/i.test((e as Error).message)) throw e;
    }
  }
}

export async function registerCapabilities(kv: KV, capabilities: string[], agents: string[], workerId: string): Promise<void> {
  const at = new Date().toISOString();
  await Promise.all(capabilities.map((c) => kv.put(c, new TextEncoder().encode(JSON.stringify({ capability: c, agents, lastRegisteredBy: workerId, at })))));
}
