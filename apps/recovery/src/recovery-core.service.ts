/**
 * The recovery core's NATS adapter and lifecycle (no decisions here): feeds liveness events
 * to the reclaim handler, task events to the running index, alerts to the incident linker,
 * runs the deadline sweeper on a timer, and serves the incidents endpoints.
 */
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { headers as natsHeaders, type Subscription } from '@nats-io/nats-core';
import { type AgentLivenessEvent, type AlertEvent, Headers, NotFoundError, type QueuedTask, RecoveryIncidentEndpoints, type TaskEvent, type TaskRecord } from '@sb/contracts';
import { Bus, decode, encode, NatsClient, openBucket } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { markReclaimed, markTimedOut, publishTaskEvent, TaskInfrastructure } from '@sb/tasks';
import { KvActionLog } from './actions/action-log';
import type { RecoveryConfig } from './config';
import { AlertLinker } from './incidents/alert-linker.handler';
import { IncidentLog } from './incidents/incident-log';
import { LeaderLease } from './leader/leader-lease';
import { ReclaimHandler } from './reclaim/reclaim.handler';
import { RunningIndex } from './reclaim/running-index';
import { RecoveryMetrics } from './recovery-metrics';
import { RECOVERY_CONFIG } from './recovery.tokens';
import { LocalRuntimeAdapter } from './runtime/local-runtime.adapter';
import { RestartPolicy } from './runtime/restart-policy';
import type { RuntimeAdapter } from './runtime/runtime-adapter';
import { RestartHandler } from './runtime/restart.handler';
import { DeadlineSweeper } from './sweeper/deadline-sweeper';

const NAK = new TextEncoder().encode('-NAK');
/** Task records a new leader reads at most when it looks for unfinished tasks. */
const SCAN_LIMIT = 100_000;

@Injectable()
export class RecoveryCoreService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subs: Subscription[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private readonly index = new RunningIndex();
  private readonly pending = new Set<Promise<unknown>>();
  private reclaim!: ReclaimHandler;
  private sweeper!: DeadlineSweeper;
  private linker!: AlertLinker;
  private restart?: RestartHandler;
  /** Down events seen lately, replayed by a replica that becomes leader (the action log skips finished ones). */
  private recentDowns: Array<{ ev: AgentLivenessEvent; seenAt: number }> = [];
  private stopLeaderWatch?: () => void;
  readonly metrics: RecoveryMetrics;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(TaskInfrastructure) private readonly infra: TaskInfrastructure,
    @Inject(LeaderLease) private readonly lease: LeaderLease,
    @Inject(IncidentLog) private readonly incidents: IncidentLog,
    @Inject(RECOVERY_CONFIG) private readonly cfg: RecoveryConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.metrics = new RecoveryMetrics(metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    const n = this.client.names;
    const actions = new KvActionLog(await openBucket(this.client.kvm, n.recoveryCore.actionsBucket, { ttlMs: 24 * 3600_000, replicas: this.cfg.JETSTREAM_REPLICAS }));
    const store = this.infra.store;
    this.reclaim = new ReclaimHandler(
      {
        lease: this.lease,
        actions,
        incidents: this.incidents,
        index: this.index,
        tasks: {
          get: (t, id) => store.get(t, id),
          requeue: (r, rev) => {
            const next = markReclaimed(r, r.lease);
            return next ? store.replace(next, rev) : Promise.resolve(undefined);
          },
          republish: (r, rev) => this.republish(r, rev),
        },
        nak: (subject) => this.client.nc.publish(subject, NAK),
        delay: (ms) => new Promise((res) => setTimeout(res, ms)),
        now: Date.now,
        metrics: this.metrics,
        log: (msg, detail) => this.logger.warn(detail, msg),
      },
      this.cfg.RECOVERY_RECLAIM_VERIFY_MS,
    );
    this.sweeper = new DeadlineSweeper({
      lease: this.lease,
      index: this.index,
      tasks: {
        get: (t, id) => store.get(t, id),
        timeOut: async (t, id, now) => {
          const r = await store.transition(t, id, (rec) => markTimedOut(rec, now));
          return r.applied ? r.current?.record : undefined;
        },
      },
      announce: (r) => this.announceEnded(r),
      now: Date.now,
    });
    this.linker = new AlertLinker(this.incidents, this.lease);
    const adapter = await this.runtimeAdapter();
    if (adapter) {
      this.restart = new RestartHandler({
        lease: this.lease,
        actions,
        incidents: this.incidents,
        adapter,
        policy: new RestartPolicy({ budget: this.cfg.RECOVERY_RESTART_BUDGET, windowMs: this.cfg.RECOVERY_RESTART_WINDOW_MS, backoffMs: this.cfg.RECOVERY_RESTART_BACKOFF_MS, backoffMaxMs: this.cfg.RECOVERY_RESTART_BACKOFF_MAX_MS }),
        raiseAlert: (a) => this.bus.publish(n.alerts.raise, a),
        delay: (ms) => new Promise((res) => setTimeout(res, ms)),
        metrics: { restarted: (outcome) => this.metrics.restarts.inc({ outcome }) },
      });
    }

    this.stopLeaderWatch = this.lease.onChange((leader) => {
      if (!leader) return;
      const evs = this.keepRecentDowns().map((d) => d.ev);
      this.track(this.reclaim.resume(evs).then((outs) => {
        const resumed = outs.filter((o) => o.outcome === 'done');
        if (resumed.length) this.logger.info({ resumed: resumed.length }, 'new leader finished reclaims its predecessor left');
      }));
      if (this.restart) for (const ev of evs) this.track(this.restart.onDown(ev));
      this.track(this.indexUnfinishedTasks());
    });
    this.on(n.agents.livenessOf('down'), async (ev: AgentLivenessEvent) => {
      this.recentDowns.push({ ev, seenAt: Date.now() });
      this.keepRecentDowns();
    });
    this.on(n.agents.livenessOf('down'), (ev: AgentLivenessEvent) => this.reclaim.onDown(ev).then((o) => o.outcome === 'done' && this.logger.info({ agentId: ev.agentId, ...o, naked: o.naked.length, requeued: o.requeued.length }, 'reclaimed a down agent\'s tasks')));
    this.on(n.agents.livenessOf('down'), (ev: AgentLivenessEvent) => this.restart?.onDown(ev) ?? Promise.resolve());
    this.on(n.agents.livenessOf('up'), (ev: AgentLivenessEvent) => this.reclaim.onUp(ev));
    this.on(n.agents.livenessOf('left'), (ev: AgentLivenessEvent) => this.reclaim.onUp(ev));
    this.on(n.alerts.all, (ev: AlertEvent) => this.linker.onAlert(ev));
    this.subs.push(this.client.nc.subscribe(n.tasks.eventsAll, { callback: (_e, m) => this.safely(() => this.index.onEvent(decode(m.data) as TaskEvent)) }));
    this.subs.push(this.bus.serve(RecoveryIncidentEndpoints.list, async (q) => ({ incidents: await this.incidents.list(q) })));
    this.subs.push(
      this.bus.serve(RecoveryIncidentEndpoints.get, async ({ id }) => {
        const inc = await this.incidents.get(id);
        if (!inc) throw new NotFoundError(`Incident ${id} not found`);
        return inc;
      }),
    );
    const sweep = () => {
      this.sweepTimer = setTimeout(() => {
        this.track(this.sweeper.sweep().then((r) => r.timedOut.length && this.metrics.timedOut.inc(r.timedOut.length)).finally(sweep));
      }, this.cfg.RECOVERY_SWEEP_INTERVAL_MS);
    };
    sweep();
  }

  /** A new leader also sweeps tasks accepted before this replica listened to task events. */
  /** The runtime adapter RECOVERY_RUNTIME names, or none (then the platform replaces processes by itself). */
  private async runtimeAdapter(): Promise<RuntimeAdapter | undefined> {
    if (this.cfg.RECOVERY_RUNTIME === 'local') {
      return new LocalRuntimeAdapter({ request: (subject, body) => this.bus.requestSubject(subject, body), restartSubject: this.client.names.runtime.localRestart });
    }
    if (this.cfg.RECOVERY_RUNTIME === 'kubernetes') {
      // Loaded only when used: the Kubernetes client is heavy.
      const { KubernetesRuntimeAdapter } = await import('./runtime/kubernetes-runtime.adapter');
      return KubernetesRuntimeAdapter.fromDefault(this.cfg.RECOVERY_K8S_NAMESPACE);
    }
    return undefined;
  }

  private async indexUnfinishedTasks(): Promise<void> {
    const kv = await this.client.kvm.open(this.client.names.buckets.tasks);
    let seen = 0;
    for await (const key of await kv.keys()) {
      if (++seen > SCAN_LIMIT || !this.lease.isLeader()) break;
      const dot = key.indexOf('.');
      const cur = await this.infra.store.get(key.slice(0, dot), key.slice(dot + 1));
      const r = cur?.record;
      if (r && (r.status === 'queued' || r.status === 'running')) this.index.add({ taskId: r.taskId, tenantId: r.tenantId, capability: r.capability, status: r.status, agentId: r.agentId ?? null });
    }
  }

  private keepRecentDowns(): Array<{ ev: AgentLivenessEvent; seenAt: number }> {
    const horizon = Date.now() - Math.max(30_000, this.cfg.RECOVERY_LEASE_MS * 3);
    this.recentDowns = this.recentDowns.filter((d) => d.seenAt >= horizon).slice(-1000);
    return this.recentDowns;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopLeaderWatch?.();
    clearTimeout(this.sweepTimer);
    for (const s of this.subs) s.unsubscribe();
    await Promise.allSettled([...this.pending]);
    await this.lease.stop();
  }

  /** A reclaim copy: runs only if the record is still at `revision` (see the worker's startReclaimCopy). */
  private async republish(r: TaskRecord, revision: number): Promise<void> {
    const n = this.client.names;
    const h = natsHeaders();
    h.set(Headers.Reclaimed, String(revision));
    h.set(Headers.TaskId, r.taskId);
    h.set(Headers.TenantId, r.tenantId);
    if (r.traceparent) h.set(Headers.TraceParent, r.traceparent);
    const task: QueuedTask = { taskId: r.taskId, tenantId: r.tenantId, capability: r.capability, priority: r.priority, input: r.input, metadata: r.metadata, timeoutMs: r.timeoutMs, deadlineAt: r.deadlineAt, createdAt: r.createdAt };
    if (r.idempotencyKey) task.idempotencyKey = r.idempotencyKey;
    await this.client.js.publish(n.queue.subject(r.capability, r.priority), encode(task), { headers: h, msgID: `reclaim-${r.taskId}-${r.lease?.epoch ?? 0}` });
    this.client.nc.publish(n.internal.taskReady(r.capability, r.priority));
  }

  private announceEnded(r: TaskRecord): void {
    publishTaskEvent(this.bus, r);
    this.bus.publish(this.client.names.internal.taskEnded, { tenantId: r.tenantId, taskId: r.taskId });
  }

  private on<T>(subject: string, f: (ev: T) => Promise<unknown>): void {
    this.subs.push(this.client.nc.subscribe(subject, { callback: (_e, m) => this.safely(() => this.track(f(decode(m.data) as T))) }));
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => this.logger.error({ err }, 'recovery action failed')).finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.logger.warn({ err }, 'ignored a malformed event');
    }
  }
}
