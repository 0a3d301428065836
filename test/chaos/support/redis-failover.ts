/**
 * What the Redis failover scenario (redis-sentinel.chaos-spec.ts) drives and reads from outside:
 * an open-loop load of task submissions through the gateway's HTTP API, every reply kept with
 * its time, and each Redis-using service's readiness (`/health/ready`, whose Redis check names
 * the master the service is connected to).
 */
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { opsUrlOf, ReadinessRegistry, ServiceMetrics } from '@sb/observability';
import type { Fleet } from '../../e2e/support/fleet';

export interface SubmitReply {
  sentAt: number;
  repliedAt: number;
  /** HTTP status; 0 when no reply came (transport error). */
  status: number;
  taskId?: string;
  code?: string;
}

/**
 * Submits `sleep` tasks at a steady rate, without waiting for replies (open loop: an outage
 * delays no submission), until stop(). `until` resolves once a predicate over the replies holds,
 * re-checked on every reply.
 */
export class SubmitLoad {
  readonly replies: SubmitReply[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: Array<() => void> = [];
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly httpUrl: string,
    private readonly key: string,
    private readonly opts: { ratePerSec: number; sleepMs: readonly [number, number] },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.opts.ratePerSec;
    const start = Date.now();
    for (let i = 0; !this.stopped; i++) {
      const p = this.submitOne().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      await new Promise((r) => setTimeout(r, Math.max(0, start + (i + 1) * interval - Date.now())));
    }
  }

  private async submitOne(): Promise<void> {
    const [lo, hi] = this.opts.sleepMs;
    const body = { capability: 'sleep', input: { ms: lo + Math.floor(Math.random() * (hi - lo)) }, timeoutMs: 300_000 };
    const sentAt = Date.now();
    let reply: SubmitReply;
    try {
      const res = await fetch(`${this.httpUrl}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const json = (await res.json().catch(() => ({}))) as { taskId?: string; error?: { code?: string } };
      reply = { sentAt, repliedAt: Date.now(), status: res.status, taskId: res.status === 202 ? json.taskId : undefined, code: json.error?.code };
    } catch {
      reply = { sentAt, repliedAt: Date.now(), status: 0 };
    }
    this.replies.push(reply);
    for (const w of this.waiters.splice(0)) w();
  }

  accepted(): SubmitReply[] {
    return this.replies.filter((r) => r.status === 202 && r.taskId);
  }

  /** Resolves once `pred` holds (checked on each reply); rejects after `timeoutMs` naming `what`. */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Stop submitting and wait for the replies still outstanding. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.inFlight]);
  }
}

export interface RedisUser {
  /** gateway, tenancy or metrics-collector. */
  service: string;
  /** Where its /health/ready answers (the gateway: its ops port). */
  healthUrl: string;
}

/** The fleet's apps that hold a Redis connection, and where to ask each for its readiness. */
export async function redisUsers(fleet: Fleet): Promise<RedisUser[]> {
  const users: RedisUser[] = [];
  for (const app of fleet.apps as INestApplication[]) {
    // Every service has these (ObservabilityModule); the Redis users registered a `redis` readiness check.
    if (!app.get(ReadinessRegistry).all().some((c) => c.name === 'redis')) continue;
    const service = app.get(ServiceMetrics).service;
    const base = opsUrlOf(app as NestFastifyApplication) ?? (await app.getUrl()).replace('[::1]', '127.0.0.1');
    users.push({ service, healthUrl: `${base}/health/ready` });
  }
  return users;
}

/** The service's Redis readiness: up, and the master it is connected to (Sentinel mode). */
export async function redisReadiness(u: RedisUser): Promise<{ up: boolean; master?: string }> {
  try {
    const res = await fetch(u.healthUrl, { signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { details?: { redis?: { status?: string; master?: string } } };
    const redis = body.details?.redis;
    return { up: res.status === 200 && redis?.status === 'up', master: redis?.master };
  } catch {
    return { up: false };
  }
}

/**
 * ms from `since` until the service's readiness is up on `master` (polled every `everyMs`: the
 * resolution of the measurement). Rejects after `timeoutMs`.
 */
export async function backOn(u: RedisUser, master: string, since: number, timeoutMs: number, everyMs = 25): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    const r = await redisReadiness(u);
    if (r.up && r.master === master) return Date.now() - since;
    if (Date.now() > deadline) throw new Error(`${u.service} not back on Redis at ${master} within ${timeoutMs} ms (last: ${JSON.stringify(r)})`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
