/**
 * Usage accounting from task outcomes. Tenancy reads the final task events from the task-events
 * stream with its own durable consumer, so usage survives restarts of tenancy or Redis: an event
 * is acknowledged only once its usage is in Redis, and a failed write is redelivered later.
 * Recording is idempotent per task (UsageStore), so a redelivery never counts twice.
 *
 * Tokens come from the event's `tokens` field, which the worker fills from the agent's result
 * (`result.usage.tokens`, the documented convention).
 */
import { AckPolicy, type ConsumerMessages, DeliverPolicy } from '@nats-io/jetstream';
import { CapabilitySchema, TaskIdSchema, TenantIdSchema } from '@sb/contracts';
import { DEFAULT_STREAM_SETTINGS, type NatsClient, streamConfigs } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { UsageStore } from '@sb/redis';
import { z } from 'zod';

const FinalEventSchema = z.object({
  taskId: TaskIdSchema,
  tenantId: TenantIdSchema,
  capability: CapabilitySchema,
  at: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  tokens: z.number().int().min(0).optional(),
});

const RETRY_DELAY_MS = 2_000;

export class UsageConsumer {
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private lastWarn = 0;

  constructor(
    private readonly client: NatsClient,
    private readonly usage: UsageStore,
    private readonly logger: AppLogger,
    private readonly replicas: number,
  ) {}

  get durable(): string {
    return `${this.client.names.taskEvents.stream}_tenancy_usage`;
  }

  async start(): Promise<void> {
    const stream = this.client.names.taskEvents.stream;
    await this.ensureStream();
    try {
      await this.client.jsm.consumers.info(stream, this.durable);
    } catch {
      await this.client.jsm.consumers.add(stream, {
        durable_name: this.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30_000_000_000,
        max_ack_pending: 1_000,
      });
    }
    const consumer = await this.client.js.consumers.get(stream, this.durable);
    const messages = await consumer.consume({ max_messages: 256 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) {
        const parsed = FinalEventSchema.safeParse(safeJson(m.data));
        if (!parsed.success) {
          m.term(); // not a task event we can account for; never retried
          continue;
        }
        const e = parsed.data;
        try {
          await this.usage.record(e.tenantId, e.taskId, e.capability, e.tokens ?? 0, new Date(e.at));
          m.ack();
        } catch (err) {
          if (Date.now() - this.lastWarn > 10_000) {
            this.lastWarn = Date.now();
            this.logger.warn({ err, taskId: e.taskId }, 'usage not recorded yet (Redis unavailable?); events are redelivered until it is');
          }
          m.nak(RETRY_DELAY_MS);
        }
      }
    })().catch((err: unknown) => this.logger.error({ err }, 'usage consumer stopped'));
  }

  /** The stream is normally created by the gateway; create it (never re-configure it) if tenancy is first. */
  private async ensureStream(): Promise<void> {
    const cfg = streamConfigs(this.client.names, { ...DEFAULT_STREAM_SETTINGS, replicas: this.replicas }).taskEvents;
    try {
      await this.client.jsm.streams.info(cfg.name);
    } catch {
      try {
        await this.client.jsm.streams.add(cfg);
      } catch (e) {
        if (!/already in use|exists/i.test((e as Error).message)) throw e;
      }
    }
  }

  async stop(): Promise<void> {
    await this.messages?.close().catch(() => undefined);
    await this.loop;
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
}
