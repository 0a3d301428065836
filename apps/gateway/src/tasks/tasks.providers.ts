import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { Bus, decode, NatsClient, publishSecurityEvent } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceTracer } from '@sb/observability';
import { RedisClient, SubmitGate } from '@sb/redis';
import { TaskInfrastructure } from '@sb/tasks';
import { GatewayAuthenticator } from '../auth/authenticator.provider';
import type { GatewayConfig } from '../config';
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

/** The gateway's standing subscriptions; stopped last, after in-flight requests had their grace period. */
@Injectable()
export class TaskListeners implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(CapabilityCatalog) private readonly catalog: CapabilityCatalog,
    @Inject(CompletionInbox) private readonly inbox: CompletionInbox,
  ) {}
  onApplicationBootstrap() {
    this.inbox.start();
    return this.catalog.start();
  }
  onApplicationShutdown() {
    this.catalog.stop();
    this.inbox.stop();
  }
}

@Injectable()
export class AdmissionInvalidation implements OnApplicationBootstrap {
  constructor(
    @Inject(Admission) private readonly admission: Admission,
    @Inject(NatsClient) private readonly client: NatsClient,
  ) {}
  onApplicationBootstrap() {
    this.client.nc.subscribe(this.client.names.internal.tenantChanged, {
      callback: (_e, msg) => {
        const id = safeJson(msg.data)?.id;
        if (typeof id === 'string') this.admission.forget(id);
      },
    });
  }
}

function safeJson(data: Uint8Array): { id?: unknown } | undefined {
  try {
    return decode(data) as { id?: unknown };
  } catch {
    return undefined;
  }
}

export const taskProviders: Provider[] = [
  intakeGuardProvider,
  { provide: Admission, inject: [Bus, APP_CONFIG], useFactory: (b: Bus, cfg: GatewayConfig) => new Admission(b, cfg.ADMISSION_CACHE_TTL_MS) },
  AdmissionInvalidation,
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
    inject: [NatsClient, Bus, TaskInfrastructure],
    useFactory: (c: NatsClient, b: Bus, i: TaskInfrastructure) => new TaskQueries(c, b, i),
  },
  { provide: CompletionInbox, inject: [NatsClient], useFactory: (c: NatsClient) => new CompletionInbox(c.nc, c.names) },
  {
    provide: SubmitTaskHandler,
    inject: [NatsClient, Bus, TaskInfrastructure, CapabilityCatalog, TaskQueries, CompletionInbox, APP_CONFIG, IntakeGuard],
    useFactory: (c: NatsClient, b: Bus, i: TaskInfrastructure, cat: CapabilityCatalog, q: TaskQueries, inbox: CompletionInbox, cfg: GatewayConfig, guard: IntakeGuard) =>
      new SubmitTaskHandler(c, b, i, cat, q, inbox, cfg.MAX_INPUT_BYTES, undefined, guard),
  },
  {
    provide: TasksService,
    inject: [GatewayAuthenticator, Admission, SubmitTaskHandler, TaskQueries, SubmitLimits, ServiceTracer],
    useFactory: (a: GatewayAuthenticator, ad: Admission, s: SubmitTaskHandler, q: TaskQueries, l: SubmitLimits, t: ServiceTracer) => new TasksService(a, ad, s, q, l, t),
  },
];
