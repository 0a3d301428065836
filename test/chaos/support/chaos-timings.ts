/**
 * How long each step of a recovery may take, derived from the timings the chaos world
 * configures (read back through each service's own config parser, so a changed default moves
 * the deadlines with it), never from a constant that happens to hold on an idle machine.
 *
 * Each step's nominal worst case, doubled (MARGIN), is the deadline for that step, counted from
 * the moment the scenario observed the step's cause (a kill, a down event, the leader's death).
 * The recovery deadlines stay well before the server's own redelivery (ack wait): a step that
 * did not happen must fail its scenario, not be covered up by the backstop.
 */
import type { MetricsCollectorConfig } from '../../../apps/metrics-collector/src/config';
import type { RecoveryConfig } from '../../../apps/recovery/src/config';
import { LeaderLease, type LeaseStore } from '../../../apps/recovery/src/leader/leader-lease';
import type { WorkerConfig } from '../../../apps/agent-worker/src/config';
import type { GatewayConfig } from '../../../apps/gateway/src/config';
import { TAKE_POLL_MS } from '../../../apps/gateway/src/dispatch/task-source';

export interface ChaosTimings {
  /** AGENT_HEARTBEAT_MS: a worker's heartbeat period. */
  heartbeatMs: number;
  /** LIVENESS_MISSED_BEATS: heartbeat periods without a beat before the collector announces an agent down. */
  missedBeats: number;
  /** LIVENESS_SWEEP_MS: how often the collector claims expired deadlines. */
  livenessSweepMs: number;
  /** RECOVERY_LEASE_MS: a candidate takes over this long after it last saw the leader renew. */
  leaseMs: number;
  /** The lease's poll period (LeaderLease's default for leaseMs). */
  leasePollMs: number;
  /** RECOVERY_RECLAIM_VERIFY_MS: when the leader requeues the tasks still running under a dead agent's lease. */
  reclaimVerifyMs: number;
  /** The dispatcher's take poll: a waiting take looks for work handed back (or redelivered) this often. */
  idlePollMs: number;
  /** TASK_ACK_WAIT_MS (the gateway's: it owns the queue consumers): the server redelivers an unacknowledged task after this (the backstop). */
  ackWaitMs: number;
}

/** Deadlines are each step's nominal worst case times this. */
export const MARGIN = 2;

const NO_STORE = {} as LeaseStore; // only read for the poll period; never called

export function chaosTimings(worker: WorkerConfig, recovery: RecoveryConfig, collector: MetricsCollectorConfig, gateway: GatewayConfig): ChaosTimings {
  return {
    heartbeatMs: worker.AGENT_HEARTBEAT_MS,
    missedBeats: collector.LIVENESS_MISSED_BEATS,
    livenessSweepMs: collector.LIVENESS_SWEEP_MS,
    leaseMs: recovery.RECOVERY_LEASE_MS,
    leasePollMs: new LeaderLease(NO_STORE, { replicaId: 'timings', leaseMs: recovery.RECOVERY_LEASE_MS }).pollMs,
    reclaimVerifyMs: recovery.RECOVERY_RECLAIM_VERIFY_MS,
    idlePollMs: TAKE_POLL_MS,
    ackWaitMs: gateway.TASK_ACK_WAIT_MS,
  };
}

export interface Deadlines {
  /** From an agent's death (kill, SIGSTOP) to its `down` event: its last beat was before, plus one sweep. */
  detectMs: number;
  /** From the down event to each held task started elsewhere: handed back by the dispatcher at once, the rest requeued by recovery after the verify delay, then taken. */
  reclaimMs: number;
  /** From the leader's death to a new leader: it counts the lease from when it saw the last renewal, on its poll. */
  takeoverMs: number;
  /** The earliest the server could redeliver a task held at the agent's death on its own (see chaos-spec's guard). */
  backstopMs: number;
}

/** `longestTaskMs`: the load's longest task; it gets no keep-alive before ackWait / 3, so the backstop is ackWait after its delivery. */
export function deadlines(t: ChaosTimings, longestTaskMs: number): Deadlines {
  return {
    detectMs: MARGIN * (t.heartbeatMs * t.missedBeats + t.livenessSweepMs),
    reclaimMs: MARGIN * (t.reclaimVerifyMs + t.idlePollMs),
    takeoverMs: MARGIN * (t.leaseMs + 2 * t.leasePollMs),
    backstopMs: longestTaskMs < t.ackWaitMs / 3 ? t.ackWaitMs - longestTaskMs : (t.ackWaitMs * 2) / 3,
  };
}
