/**
 * Per-channel delivery loops on every replica. The channels bucket is watched: a channel that
 * appears gets a loop on its own durable work consumer (shared with the other replicas, so each
 * delivery is attempted by one of them at a time), a deleted one loses it. A loop keeps at most
 * NOTIFY_CHANNEL_CONCURRENCY attempts in flight (one alert group's in order), so a slow
 * receiver only slows itself; a failed attempt is NAKed with its backoff delay and the server
 * redelivers it then, so retries hold no loop and no slot while they wait.
 *
 * These consumers are not declared with @JetStreamConsumer: there is one per channel, made and
 * dropped at runtime as channels are, so they cannot be listed on a controller. The loops start
 * with the app and stop before the transport and the connection do.
 */
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Names, NotificationChannel } from '@sb/contracts';
import type { AppLogger } from '@sb/observability';
import type { ChannelChange, KvChannelStore } from './channel-store';
import type { DeliveryAttemptHandler, DeliveryWork, Settle } from './delivery-attempt.handler';
import type { ChannelLifecycle } from './channels.handler';

const dec = new TextDecoder();
/** After an unexpected failure (not a receiver's answer): try again in this long. */
const UNEXPECTED_RETRY_MS = 5_000;
/** A loop that could not start (NATS briefly unavailable) is tried again this much later. */
const LOOP_RETRY_MS = 5_000;

class ChannelLoop {
  private messages?: ConsumerMessages;
  private done?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last attempt queued per alert group: one group's notifications go out in order. */
  private readonly groups = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    readonly channelId: string,
    private readonly runners: DeliveryRunners,
  ) {}

  async start(): Promise<void> {
    const { js, consumers, n } = this.runners.deps;
    await consumers.created(this.channelId);
    if (this.stopped) return;
    const consumer = await js().consumers.get(n.channels.deliveryStream, n.channels.deliveryConsumer(this.channelId));
    const concurrency = this.runners.concurrency;
    this.messages = await consumer.consume({ max_messages: concurrency });
    if (this.stopped) await this.messages.close();
    this.done = (async () => {
      for await (const m of this.messages!) {
        const work = this.parse(m);
        if (!work) continue;
        const key = work.notification.groupKey;
        const p: Promise<void> = (this.groups.get(key) ?? Promise.resolve())
          .then(() => this.attempt(m, work))
          .catch((err: unknown) => this.runners.deps.logger.warn({ err, channelId: this.channelId }, 'delivery not settled (connection closing?); it is redelivered'));
        this.groups.set(key, p);
        void p.finally(() => {
          this.inFlight.delete(p);
          if (this.groups.get(key) === p) this.groups.delete(key);
        });
        this.inFlight.add(p);
        if (this.inFlight.size >= concurrency) await Promise.race(this.inFlight);
      }
    })().catch((err: unknown) => {
      // e.g. the consumer was deleted with its channel on another replica; the watch stops this loop.
      if (!this.stopped) this.runners.deps.logger.warn({ err, channelId: this.channelId }, 'channel delivery loop ended');
    });
  }

  private parse(m: JsMsg): DeliveryWork | undefined {
    try {
      const work = JSON.parse(dec.decode(m.data)) as DeliveryWork;
      if (typeof work?.notification?.id === 'string' && typeof work.notification.groupKey === 'string') return work;
    } catch {
      /* fall through */
    }
    this.runners.deps.logger.warn({ channelId: this.channelId, seq: m.seq }, 'delivery message is malformed; dropped');
    m.term();
    return undefined;
  }

  private async attempt(m: JsMsg, work: DeliveryWork): Promise<void> {
    m.working(); // it may have waited behind its group: restart the ack-wait clock
    let s: Settle;
    try {
      s = await this.runners.deps.attempts.handle(this.runners.channel(this.channelId), { ...work, channelId: this.channelId }, m.info.deliveryCount);
    } catch (err) {
      this.runners.deps.logger.error({ err, channelId: this.channelId, notificationId: work.notification.id }, 'delivery attempt failed unexpectedly');
      s = { action: 'nak', delayMs: UNEXPECTED_RETRY_MS };
    }
    if (s.action === 'ack') m.ack();
    else if (s.action === 'term') m.term();
    else m.nak(s.delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    await this.done?.catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }
}

export interface RunnerDeps {
  js: () => JetStreamClient;
  /** Each channel's delivery consumer: ensured before its loop starts. */
  consumers: ChannelLifecycle;
  n: Names;
  store: KvChannelStore;
  attempts: DeliveryAttemptHandler;
  logger: AppLogger;
}

export class DeliveryRunners implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly channels = new Map<string, NotificationChannel>();
  private readonly loops = new Map<string, ChannelLoop>();
  private readonly abort = new AbortController();
  private watching?: Promise<void>;
  private initial?: Promise<void>;

  constructor(
    readonly deps: RunnerDeps,
    readonly concurrency: number,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  channel(id: string): NotificationChannel | undefined {
    return this.channels.get(id);
  }

  /** Resolves once the channels that exist now have their loops. */
  async start(): Promise<void> {
    const existing = await this.deps.store.list();
    for (const c of existing) this.channels.set(c.id, c);
    this.initial = Promise.all(existing.map((c) => this.ensureLoop(c.id))).then(() => undefined);
    this.watching = this.deps.store.watch((c) => this.onChange(c), this.abort.signal).catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.deps.logger.error({ err }, 'channel watch stopped; channel changes are no longer followed');
    });
    await this.initial;
  }

  private onChange({ id, channel }: ChannelChange): void {
    if (channel) {
      this.channels.set(id, channel);
      void this.ensureLoop(id);
    } else {
      this.channels.delete(id);
      const loop = this.loops.get(id);
      this.loops.delete(id);
      void loop?.stop();
    }
  }

  private async ensureLoop(id: string): Promise<void> {
    if (this.loops.has(id) || this.abort.signal.aborted) return;
    const loop = new ChannelLoop(id, this);
    this.loops.set(id, loop);
    try {
      await loop.start();
    } catch (err) {
      this.loops.delete(id);
      this.deps.logger.error({ err, channelId: id }, 'channel delivery loop did not start; retrying');
      const retry = setTimeout(() => {
        if (this.channels.has(id)) void this.ensureLoop(id);
      }, LOOP_RETRY_MS);
      retry.unref();
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.watching;
    const loops = [...this.loops.values()];
    this.loops.clear();
    await Promise.all(loops.map((l) => l.stop()));
  }
}
