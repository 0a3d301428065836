/**
 * `GET /v1/tasks/events`: task status changes as Server-Sent Events, live. A tenant's key sees
 * its own tenant's tasks; an admin sees every tenant's, or one with `?tenantId=`. Errors before
 * the stream opens (credentials, bad query, too many streams) are ordinary JSON errors.
 */
import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { NotFoundError, type Principal, type TaskEvent, TaskEventsQuerySchema, UnavailableError } from '@sb/contracts';
import { contract, NatsClient } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { Gauge } from 'prom-client';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { isAdmin } from '../auth/authenticator';
import { CurrentPrincipal } from '../auth/request-state';
import type { GatewayConfig } from '../config';
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
export class TaskEventsHttpController {
  private open = 0;
  private readonly gauge: Gauge;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(APP_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.gauge = new Gauge({ name: 'sb_sse_streams', help: 'Open task-event (SSE) streams on this gateway', registers: [metrics.registry] });
  }

  @Get('/events')
  @RequireScope('tasks:read', 'admin')
  async events(@CurrentPrincipal() principal: Principal, @Query(contract(TaskEventsQuerySchema)) q: z.output<typeof TaskEventsQuerySchema>, @Res() reply: Reply): Promise<void> {
    let subject: string;
    if (isAdmin(principal)) subject = q.tenantId ? this.client.names.tasks.eventsOfTenant(q.tenantId) : this.client.names.tasks.eventsAll;
    else if (q.tenantId && q.tenantId !== principal.tenantId) throw new NotFoundError(`Tenant ${q.tenantId} not found`);
    else subject = this.client.names.tasks.eventsOfTenant(principal.tenantId);
    if (this.open >= this.config.SSE_MAX_STREAMS) throw new UnavailableError('Too many open event streams on this gateway; retry shortly', { retryAfter: 5 });

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const stream = new TaskEventStream(
      { write: (c) => raw.write(c), onDrain: (cb) => raw.on('drain', cb), end: () => raw.end() },
      { statuses: q.status ? new Set(q.status) : undefined, capability: q.capability, taskId: q.taskId },
      { setInterval: (cb, ms) => setInterval(cb, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) },
      this.config.SSE_KEEPALIVE_MS,
    );
    let sub: Subscription | undefined;
    const close = () => {
      if (!sub) return;
      sub.unsubscribe();
      sub = undefined;
      stream.close();
      this.open--;
      this.gauge.set(this.open);
    };
    this.open++;
    this.gauge.set(this.open);
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
    raw.on('close', close);
    // The subscription also ends when the gateway drains NATS on shutdown.
    void sub.closed.then(close, close);
  }
}
