/**
 * Heartbeats: validate, keep the latest per agent in memory, and move the agent's liveness
 * deadline forward in Redis in batches (one script call per flush for every agent that beat
 * since the last one). An agent that was down and beats again is announced `up`. Beats reach
 * this handler only with the agent's session (AgentSessions); an agent the collector has no
 * registration for is asked to register again.
 */
import type { Heartbeat } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import { parseHeartbeat } from '../ingestion/fast-validate';
import type { AgentDirectory } from '../registry/agent-directory';
import { downAfterMs, type LivenessPublisher, livenessEvent } from './liveness-events';
import type { LivenessPort, PendingBeat } from './liveness-store';

export type BeatVerdict = 'accepted' | 'invalid' | 'mismatch' | 'stale';

export interface HeartbeatHooks {
  /** Ask an agent to send its registration again (at most once per REREGISTER_EVERY_MS each). */
  askToRegister(agentId: string): void;
  counted(verdict: BeatVerdict): void;
  flushFailed(err: unknown, pending: number): void;
}

export const REREGISTER_EVERY_MS = 5_000;
const MAX_BEATS_PER_CALL = 1_000;

export class HeartbeatHandler {
  private pending = new Map<string, PendingBeat>();
  private flushing?: Promise<void>;
  private readonly asked = new Map<string, number>();
  /** The last flush could not write every beat (they wait for the next one). */
  lastFlushFailed = false;

  constructor(
    private readonly directory: AgentDirectory,
    private readonly liveness: LivenessPort,
    private readonly events: LivenessPublisher,
    private readonly hooks: HeartbeatHooks,
    private readonly clock: Clock,
    private readonly missedBeats: number,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** One heartbeat from `sb.v1.agents.heartbeat.<subjectAgentId>`. Never throws. */
  onBeat(subjectAgentId: string, body: unknown): BeatVerdict {
    const parsed = parseHeartbeat(body);
    const verdict: BeatVerdict = !parsed.ok ? 'invalid' : parsed.value.agentId !== subjectAgentId ? 'mismatch' : 'accepted';
    if (verdict !== 'accepted') {
      this.hooks.counted(verdict);
      return verdict;
    }
    const hb = (parsed as { value: Heartbeat }).value;
    const now = this.clock.now();
    const out = this.directory.beat(hb, now);
    if (out.stale) {
      this.hooks.counted('stale');
      return 'stale';
    }
    if (out.unknown) this.askToRegister(hb.agentId, now);
    const interval = this.directory.get(hb.agentId)!.reg.heartbeatIntervalMs;
    this.pending.set(hb.agentId, { agentId: hb.agentId, deadline: now + downAfterMs(interval, this.missedBeats) });
    this.hooks.counted('accepted');
    return 'accepted';
  }

  /** Write the pending deadlines; announce agents that came back. Safe to call concurrently. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    this.lastFlushFailed = false;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < batch.length; i += MAX_BEATS_PER_CALL) {
      const chunk = batch.slice(i, i + MAX_BEATS_PER_CALL);
      let resumed: string[];
      try {
        resumed = await this.liveness.beat(this.clock.now(), chunk);
      } catch (err) {
        this.requeue(batch.slice(i));
        this.lastFlushFailed = true;
        this.hooks.flushFailed(err, this.pending.size);
        return;
      }
      const now = this.clock.now();
      for (const id of resumed) {
        const e = this.directory.get(id);
        this.events.publish(livenessEvent(id, e, 'up', 'heartbeat_resumed', now, e?.lastBeatAt ?? null));
      }
    }
  }

  /** A failed write is retried with the next flush; a newer beat of the same agent wins. */
  private requeue(beats: PendingBeat[]): void {
    for (const b of beats) if (!this.pending.has(b.agentId)) this.pending.set(b.agentId, b);
  }

  /** Ask the agent to register again, at most once per REREGISTER_EVERY_MS (it beats, but this collector has no registration of it). */
  askToRegister(agentId: string, now = this.clock.now()): void {
    const last = this.asked.get(agentId);
    if (last !== undefined && now - last < REREGISTER_EVERY_MS) return;
    this.asked.set(agentId, now);
    if (this.asked.size > 100_000) this.asked.clear();
    this.hooks.askToRegister(agentId);
  }
}
