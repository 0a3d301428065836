/**
 * The stream and durable consumer tenancy's usage accounting reads (Consumers.usage),
 * created before the transport starts consuming. The stream is normally created by the gateway;
 * tenancy creates it if it is first, and never re-configures either.
 */
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { Consumers } from '@sb/contracts';
import { DEFAULT_STREAM_SETTINGS, type NatsClient, streamConfigs } from '@sb/messaging';

export async function ensureUsageConsumer(client: NatsClient, replicas: number): Promise<void> {
  const n = client.names;
  const stream = Consumers.usage.stream(n);
  const durable = Consumers.usage.durable(n);
  await ensureStream(client, replicas);
  try {
    await client.jsm.consumers.info(stream, durable);
  } catch {
    await client.jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
      max_ack_pending: 1_000,
    });
  }
}

async function ensureStream(client: NatsClient, replicas: number): Promise<void> {
  const cfg = streamConfigs(client.names, { ...DEFAULT_STREAM_SETTINGS, replicas }).taskEvents;
  try {
    await client.jsm.streams.info(cfg.name);
  } catch {
    try {
      await client.jsm.streams.add(cfg);
    } catch (e) {
      if (!/already in use|exists/i.test((e as Error).message)) throw e;
    }
  }
}
