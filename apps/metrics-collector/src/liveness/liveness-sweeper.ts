/**
 * The missed-heartbeat detector: every LIVENESS_SWEEP_MS, claim the agents whose deadline
 * passed (atomically in Redis, so one replica announces each incident) and announce them
 * `down`. The event names no tasks: the dispatcher and recovery know what the agent held.
 */
import type { Clock } from '@sb/observability';
import type { AgentDirectory } from '../registry/agent-directory';
import { downAfterMs, type LivenessPublisher, livenessEvent } from './liveness-events';
import type { LivenessPort } from './liveness-store';

const CLAIM_LIMIT = 5_000;

export interface SweepHooks {
  /**
   * Runs before each sweep and must resolve only once every heartbeat received so far has been
   * applied and written (the adapter round-trips to NATS, so beats already sent to this
   * collector are processed, then flushes the batch): a collector behind on its input must not
   * declare agents down whose beats it has not read yet. While it fails, nothing is judged.
   */
  beforeSweep?(): Promise<void>;
  rearmed(count: number): void;
  failed(err: unknown): void;
  /** Milliseconds from the deadline to the announcement. */
  detected(lagMs: number): void;
}

export interface SweepSettings {
  missedBeats: number;
  sweepMs: number;
}

export class LivenessSweeper {
  private running?: Promise<number>;

  constructor(
    private readonly directory: AgentDirectory,
    private readonly liveness: LivenessPort,
    private readonly events: LivenessPublisher,
    private readonly hooks: SweepHooks,
    private readonly clock: Clock,
    private readonly settings: SweepSettings,
  ) {}

  /** Without a sweep for this long, expired deadlines are re-armed rather than judged. */
  get gapMs(): number {
    return Math.max(1_000, this.settings.sweepMs * 10);
  }

  /** Grace given to every agent after a gap: the longest down threshold among known agents. */
  graceMs(): number {
    let longest = 1_000;
    for (const e of this.directory.entries()) longest = Math.max(longest, e.reg.heartbeatIntervalMs);
    return downAfterMs(longest, this.settings.missedBeats);
  }

  /** One sweep; resolves with the number of agents announced down. Never throws. */
  tick(): Promise<number> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<number> {
    let result;
    let now: number;
    try {
      await this.hooks.beforeSweep?.();
      now = this.clock.now();
      result = await this.liveness.sweep(now, CLAIM_LIMIT, this.gapMs, this.graceMs());
    } catch (err) {
      this.hooks.failed(err);
      return 0;
    }
    if (result.kind === 'rearmed') {
      this.hooks.rearmed(result.count);
      return 0;
    }
    for (const d of result.down) {
      const entry = this.directory.get(d.agentId);
      const interval = entry?.reg.heartbeatIntervalMs ?? 1_000;
      const lastBeat = entry?.lastBeatAt ?? d.deadline - downAfterMs(interval, this.settings.missedBeats);
      this.events.publish(livenessEvent(d.agentId, entry, 'down', 'missed_heartbeats', now, lastBeat));
      this.hooks.detected(Math.max(0, now - d.deadline));
    }
    return result.down.length;
  }
}
