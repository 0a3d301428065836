/**
 * `GET /v1/tasks/events`: task status changes as Server-Sent Events, live. A tenant's key sees
 * its own tenant's tasks; an admin sees every tenant's, or one with `?tenantId=`. Errors before
 * the stream opens (credentials, bad query, too many streams) are ordinary JSON errors: one key
 * holds at most SSE_MAX_STREAMS_PER_KEY streams (429), the gateway SSE_MAX_STREAMS (503).
 */
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { NotFoundError, type Principal, type TaskEvent, TaskEventsQuerySchema } from '@sb/contracts';
import { contract, NatsClient } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, REPLY_HEADERS, ServiceMetrics } from '@sb/observability';
import { Gauge } from 'prom-client';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { isAdmin } from '../auth/authenticator';
import { CurrentPrincipal } from '../auth/request-state';
import type { GatewayConfig } from '../config';
import { KeySlots } from '../limits/key-slots';
import { ReadLimited } from '../limits/read-limit.interceptor';
import { TaskEventStream } from './event-stream';

interface RawResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): void;
  on(event: 'drain' | 'close', cb: () => void): unknown;
}
interface Reply {
  hijack(): unknown;
  raw: RawResponse;
}

const decoder = new TextDecoder();

@Controller('/v1/tasks')
@ReadLimited()
export class TaskEventsHttpController {
  private readonly streams: KeySlots;
  private readonly gauge: Gauge;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.gauge = new Gauge({ name: 'sb_sse_streams', help: 'Open task-event (SSE) streams on this gateway', registers: [metrics.registry] });
    this.streams = new KeySlots({ what: 'open event streams', perKey: config.SSE_MAX_STREAMS_PER_KEY, total: config.SSE_MAX_STREAMS, retryAfterSeconds: 5 });
  }

  @Get('/events')
  @RequireScope('tasks:read', 'admin')
  async events(@CurrentPrincipal() principal: Principal, @Query(contract(TaskEventsQuerySchema)) q: z.output<typeof TaskEventsQuerySchema>, @Res() reply: Reply): Promise<void> {
    let subject: string;
    if (isAdmin(principal)) subject = q.tenantId ? this.client.names.tasks.eventsOfTenant(q.tenantId) : this.client.names.tasks.eventsAll;
    else if (q.tenantId && q.tenantId !== principal.tenantId) throw new NotFoundError(`Tenant ${q.tenantId} not found`);
    else subject = this.client.names.tasks.eventsOfTenant(principal.tenantId);
    const release = this.streams.acquire(principal.keyId);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { ...REPLY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const stream = new TaskEventStream(
      { write: (c) => raw.write(c), onDrain: (cb) => raw.on('drain', cb), end: () => raw.end() },
      { statuses: q.status ? new Set(q.status) : undefined, capability: q.capability, taskId: q.taskId },
      { setInterval: (cb, ms) => setInterval(cb, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) },
      this.config.SSE_KEEPALIVE_MS,
    );
    let sub: Subscription | undefined;
    let closed = false;
    // Every way a stream ends gives its slot back, once.
    const close = () => {
      if (closed) return;
      closed = true;
      sub?.unsubscribe();
      stream.close();
      release();
      this.gauge.set(this.streams.inUse);
    };
    this.gauge.set(this.streams.inUse);
    try {
      sub = this.client.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return close();
          try {
            stream.push(JSON.parse(decoder.decode(msg.data)) as TaskEvent);
          } catch (e) {
            this.logger.warn({ err: e, subject: msg.subject }, 'unreadable task event skipped');
          }
        },
      });
    } catch (e) {
      this.logger.warn({ err: e }, 'task-event stream could not subscribe');
      return close();
    }
    raw.on('close', close);
    // The subscription also ends when the gateway drains NATS on shutdown.
    void sub.closed.then(close, close);
  }
}
