/**
 * Agent liveness for the recovery core. A down agent's tasks are reclaimed and, with a
 * runtime adapter, its process is restarted: both act on the leader only (ReclaimHandler and
 * RestartHandler check the lease), so every replica hears every event. Every replica also
 * remembers the down events of the last while, so one that becomes leader replays them (the
 * action log skips those already finished). An agent that is up again, or left, ends its incident.
 */
import type { AgentLivenessEvent } from '@sb/contracts';
import type { RestartHandler } from '../runtime/restart.handler';
import type { ReclaimHandler } from './reclaim.handler';

export interface LivenessPorts {
  reclaim: Pick<ReclaimHandler, 'onDown' | 'onUp' | 'resume'>;
  /** Absent without a runtime adapter (the platform replaces processes by itself). */
  restart?: Pick<RestartHandler, 'onDown'>;
  /** How long a down event stays remembered for a new leader. */
  memoryMs: number;
  now: () => number;
  log: { info(detail: Record<string, unknown>, msg: string): void };
}

/**
 * Down events remembered at most (the newest are kept): a whole fleet's, so a leader that takes
 * over in the middle of a mass failure still reclaims every agent (with 1,000, a replica that
 * lost and regained the lease during 2,000 agents' failure left 968 of them unreclaimed).
 */
const MAX_REMEMBERED = 20_000;

export class AgentLivenessHandler {
  private recent: Array<{ ev: AgentLivenessEvent; seenAt: number }> = [];

  constructor(private readonly p: LivenessPorts) {}

  /** An agent was declared down. A body that is not a liveness event is ignored. */
  async onDown(ev: AgentLivenessEvent | undefined): Promise<void> {
    if (!isLiveness(ev)) return;
    this.recent.push({ ev, seenAt: this.p.now() });
    this.keepRecent();
    await settle([
      this.p.reclaim.onDown(ev).then((o) => {
        if (o.outcome !== 'done') return;
        this.p.log.info({ agentId: ev.agentId, ...o, found: o.found.length, requeued: o.requeued.length }, "reclaimed a down agent's tasks");
      }),
      this.p.restart?.onDown(ev),
    ]);
  }

  /** The agent is heartbeating again, or left gracefully. */
  async onUp(ev: AgentLivenessEvent | undefined): Promise<void> {
    if (!isLiveness(ev)) return;
    await this.p.reclaim.onUp(ev);
  }

  /** This replica just became leader: finish its predecessor's reclaims and act on the down events heard meanwhile. */
  async takeOver(): Promise<void> {
    const evs = this.keepRecent().map((d) => d.ev);
    const restart = this.p.restart;
    await settle([
      this.p.reclaim.resume(evs).then((outs) => {
        const resumed = outs.filter((o) => o.outcome === 'done');
        if (resumed.length) this.p.log.info({ resumed: resumed.length }, 'new leader finished reclaims its predecessor left');
      }),
      ...(restart ? evs.map((ev) => restart.onDown(ev)) : []),
    ]);
  }

  /** Drops what is too old or beyond MAX_REMEMBERED (oldest first: in the order seen, so only a prefix goes). */
  private keepRecent(): Array<{ ev: AgentLivenessEvent; seenAt: number }> {
    const horizon = this.p.now() - this.p.memoryMs;
    let drop = Math.max(0, this.recent.length - MAX_REMEMBERED);
    while (drop < this.recent.length && this.recent[drop].seenAt < horizon) drop += 1;
    if (drop > 0) this.recent.splice(0, drop);
    return this.recent;
  }
}

function isLiveness(ev: AgentLivenessEvent | undefined): ev is AgentLivenessEvent {
  return typeof ev?.agentId === 'string';
}

/** Every action runs to its end; then a failure is rethrown (several as one AggregateError) for the transport to log. */
async function settle(actions: Array<Promise<unknown> | undefined>): Promise<void> {
  const settled = await Promise.allSettled(actions);
  const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} recovery actions failed`);
}
