import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Bus, NatsClient, publishSecurityEvent } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { Gauge } from 'prom-client';
import { RedisClient, SubmitGate } from '@sb/redis';
import { Events } from '@sb/contracts';
import { TaskAnnouncer, TaskInfrastructure, TaskLifecycle } from '@sb/tasks';
import type { GatewayConfig } from '../config';
import { KeySlots } from '../limits/key-slots';
import { Admission } from './admission';
import { CapabilityCatalog } from './capability-catalog';
import { CompletionInbox } from './completion-inbox';
import { LocalLimiter } from './local-limiter';
import { SubmitLimits } from './submit-limits';
import { SubmitTaskHandler } from './submit-task.handler';
import { IntakeGuard } from './intake-guard';
import { intakeGuardProvider } from './intake-guard.providers';
import { TaskQueries } from './task-queries';
import { TasksService } from './tasks.service';

/**
 * The gateway's standing watches that are not declared handlers (its completion inbox, whose subject
 * holds this replica's id, and the capability bucket); stopped last, after in-flight requests had
 * their grace period.
 */
@Injectable()
export class TaskListeners implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CapabilityCatalog) private readonly catalog: CapabilityCatalog,
    @Inject(CompletionInbox) private readonly inbox: CompletionInbox,
  ) {}
  onApplicationBootstrap() {
    return this.catalog.start();
  }
  onApplicationShutdown() {
    this.catalog.stop();
    this.inbox.stop();
  }
}

export const taskProviders: Provider[] = [
  intakeGuardProvider,
  { provide: Admission, inject: [Bus, APP_CONFIG], useFactory: (b: Bus, cfg: GatewayConfig) => new Admission(b, cfg.ADMISSION_CACHE_TTL_MS) },
  {
    provide: SubmitLimits,
    inject: [RedisClient, Bus, APP_CONFIG, LOGGER],
    useFactory: (r: RedisClient, bus: Bus, cfg: GatewayConfig, logger: AppLogger) =>
      new SubmitLimits(new SubmitGate(r), new LocalLimiter(cfg.GATEWAY_REPLICAS), { rate: cfg.TENANT_SUBMIT_RATE, burst: cfg.TENANT_SUBMIT_BURST }, logger, (e) =>
        publishSecurityEvent(bus, e),
      ),
  },
  { provide: CapabilityCatalog, inject: [TaskInfrastructure], useFactory: (infra: TaskInfrastructure) => new CapabilityCatalog(infra.capabilities) },
  TaskListeners,
  {
    provide: TaskQueries,
    inject: [NatsClient, TaskInfrastructure, TaskLifecycle, APP_CONFIG],
    useFactory: (c: NatsClient, i: TaskInfrastructure, l: TaskLifecycle, cfg: GatewayConfig) => new TaskQueries(c, i, l, cfg.TASK_LIST_SCAN_MAX),
  },
  {
    provide: CompletionInbox,
    inject: [NatsClient, TaskAnnouncer],
    useFactory: (c: NatsClient, announcer: TaskAnnouncer) => {
      const inbox = new CompletionInbox(Events.taskCompletion.subject(c.names, c.self));
      // This gateway's dispatcher finishes most of the tasks submitted here: handed over in process.
      announcer.deliverLocally(inbox.subject, (task) => inbox.completed(task));
      return inbox;
    },
  },
  {
    provide: SubmitTaskHandler,
    inject: [Bus, TaskLifecycle, TaskInfrastructure, CapabilityCatalog, TaskQueries, CompletionInbox, APP_CONFIG, IntakeGuard],
    useFactory: (b: Bus, l: TaskLifecycle, i: TaskInfrastructure, cat: CapabilityCatalog, q: TaskQueries, inbox: CompletionInbox, cfg: GatewayConfig, guard: IntakeGuard) =>
      new SubmitTaskHandler(b, l, i.idempotency, cat, q, inbox, cfg.MAX_INPUT_BYTES, undefined, guard),
  },
  {
    provide: TasksService,
    inject: [Admission, SubmitTaskHandler, TaskQueries, SubmitLimits, APP_CONFIG, ServiceMetrics],
    useFactory: (ad: Admission, s: SubmitTaskHandler, q: TaskQueries, l: SubmitLimits, cfg: GatewayConfig, metrics: ServiceMetrics) => {
      const waits = new KeySlots({ what: 'requests waiting for a task', perKey: cfg.WAIT_MAX_PER_KEY, total: cfg.WAIT_MAX, retryAfterSeconds: 1 });
      new Gauge({
        name: 'sb_task_waits',
        help: 'Requests waiting for a task to finish on this gateway (submit with wait, GET /wait)',
        registers: [metrics.registry],
        collect() {
          this.set(waits.inUse);
        },
      });
      return new TasksService(ad, s, q, l, waits);
    },
  },
];
