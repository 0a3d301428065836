/**
 * Nest wiring of the recovery core: the action log, the running index and the use cases
 * (reclaim, restart through the runtime adapter RECOVERY_RUNTIME names, agent liveness,
 * deadline sweeper, alert linker, incident queries) with their ports, composed from the
 * service's NATS connection, task store, leader lease and incident log; their NATS controllers;
 * and the lifecycle provider (leader takeover, sweep timer).
 */
import type { Provider, Type } from '@nestjs/common';
import { Bus, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { TaskLifecycle } from '@sb/tasks';
import { type ActionLog, KvActionLog } from './actions/action-log';
import type { RecoveryConfig } from './config';
import { AlertLinker } from './incidents/alert-linker.handler';
import { IncidentLog } from './incidents/incident-log';
import { IncidentQueriesHandler } from './incidents/incident-queries.handler';
import { IncidentsNatsController } from './incidents/incidents.nats';
import { LeaderLease } from './leader/leader-lease';
import { AgentLivenessHandler } from './reclaim/agent-liveness.handler';
import { AgentLivenessNatsController } from './reclaim/agent-liveness.nats';
import { ReclaimHandler } from './reclaim/reclaim.handler';
import { RunningIndex } from './reclaim/running-index';
import { RecoveryCoreService } from './recovery-core.service';
import { RecoveryMetrics } from './recovery-metrics';
import { RECOVERY_CONFIG } from './recovery.tokens';
import { LocalRuntimeAdapter } from './runtime/local-runtime.adapter';
import { RestartPolicy } from './runtime/restart-policy';
import { RestartHandler } from './runtime/restart.handler';
import type { RuntimeAdapter } from './runtime/runtime-adapter';
import { DeadlineSweeper } from './sweeper/deadline-sweeper';

const ACTION_LOG = Symbol('RECOVERY_ACTION_LOG');
const delay = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

/** The runtime adapter RECOVERY_RUNTIME names, or none (then the platform replaces processes by itself). */
async function runtimeAdapter(cfg: RecoveryConfig, bus: Bus): Promise<RuntimeAdapter | undefined> {
  if (cfg.RECOVERY_RUNTIME === 'local') {
    return new LocalRuntimeAdapter({
      request: (subject, body) => bus.requestSubject(subject, body),
      restartSubject: bus.names.runtime.localRestart,
    });
  }
  if (cfg.RECOVERY_RUNTIME === 'kubernetes') {
    // Loaded only when used: the Kubernetes client is heavy.
    const { KubernetesRuntimeAdapter } = await import('./runtime/kubernetes-runtime.adapter');
    return KubernetesRuntimeAdapter.fromDefault({ namespace: cfg.RECOVERY_K8S_NAMESPACE, instance: cfg.RECOVERY_K8S_INSTANCE, pools: cfg.RECOVERY_K8S_AGENT_POOLS });
  }
  return undefined;
}

export const recoveryCoreControllers: Type[] = [AgentLivenessNatsController, IncidentsNatsController];

export const recoveryCoreProviders: Provider[] = [
  { provide: RecoveryMetrics, inject: [ServiceMetrics], useFactory: (m: ServiceMetrics) => new RecoveryMetrics(m) },
  { provide: RunningIndex, useFactory: () => new RunningIndex() },
  {
    provide: ACTION_LOG,
    inject: [Topology],
    useFactory: (t: Topology) => new KvActionLog(t.bucket('recoveryActions')),
  },
  {
    provide: ReclaimHandler,
    inject: [TaskLifecycle, LeaderLease, ACTION_LOG, IncidentLog, RunningIndex, RecoveryMetrics, RECOVERY_CONFIG, LOGGER],
    useFactory: (
      lifecycle: TaskLifecycle,
      lease: LeaderLease,
      actions: ActionLog,
      incidents: IncidentLog,
      index: RunningIndex,
      metrics: RecoveryMetrics,
      cfg: RecoveryConfig,
      logger: AppLogger,
    ) =>
      new ReclaimHandler(
        {
          lease,
          actions,
          incidents,
          index,
          tasks: {
            get: (t, id) => lifecycle.store.get(t, id),
            reclaim: (r, rev) => lifecycle.reclaim(r, rev),
          },
          delay,
          now: Date.now,
          metrics,
          log: (msg, detail) => logger.warn(detail, msg),
        },
        cfg.RECOVERY_RECLAIM_VERIFY_MS,
      ),
  },
  {
    provide: AgentLivenessHandler,
    inject: [ReclaimHandler, Bus, LeaderLease, ACTION_LOG, IncidentLog, RecoveryMetrics, RECOVERY_CONFIG, LOGGER],
    useFactory: async (
      reclaim: ReclaimHandler,
      bus: Bus,
      lease: LeaderLease,
      actions: ActionLog,
      incidents: IncidentLog,
      metrics: RecoveryMetrics,
      cfg: RecoveryConfig,
      logger: AppLogger,
    ) => {
      const adapter = await runtimeAdapter(cfg, bus);
      const restart = adapter
        ? new RestartHandler({
            lease,
            actions,
            incidents,
            adapter,
            policy: new RestartPolicy({
              budget: cfg.RECOVERY_RESTART_BUDGET,
              windowMs: cfg.RECOVERY_RESTART_WINDOW_MS,
              backoffMs: cfg.RECOVERY_RESTART_BACKOFF_MS,
              backoffMaxMs: cfg.RECOVERY_RESTART_BACKOFF_MAX_MS,
            }),
            raiseAlert: (a) => bus.publish(bus.names.alerts.raise, a),
            delay,
            metrics: { restarted: (outcome) => metrics.restarts.inc({ outcome }) },
          })
        : undefined;
      const memoryMs = Math.max(30_000, cfg.RECOVERY_LEASE_MS * 3);
      return new AgentLivenessHandler({ reclaim, restart, memoryMs, now: Date.now, log: logger });
    },
  },
  {
    provide: DeadlineSweeper,
    inject: [TaskLifecycle, LeaderLease, RunningIndex],
    useFactory: (lifecycle: TaskLifecycle, lease: LeaderLease, index: RunningIndex) =>
      new DeadlineSweeper({
        lease,
        index,
        tasks: {
          get: (t, id) => lifecycle.store.get(t, id),
          // The lifecycle checks the deadline and announces the end (event, abort, every gateway's waiters).
          timeOut: async (t, id) => {
            const r = await lifecycle.timeOut(t, id, true); // the sweeper checked the deadline
            return r.applied ? r.current?.record : undefined;
          },
        },
        now: Date.now,
      }),
  },
  { provide: AlertLinker, inject: [IncidentLog, LeaderLease], useFactory: (i: IncidentLog, lease: LeaderLease) => new AlertLinker(i, lease) },
  { provide: IncidentQueriesHandler, inject: [IncidentLog], useFactory: (i: IncidentLog) => new IncidentQueriesHandler(i) },
  RecoveryCoreService,
];
