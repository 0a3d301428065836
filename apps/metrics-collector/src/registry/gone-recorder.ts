/**
 * Writes into an agent's registry record when it was declared down (`goneAt`), so the time it is
 * kept before being forgotten (COLLECTOR_FORGET_AFTER_MS) counts from the real moment, also on a
 * collector that restarted since; a departure writes its own record (RegistrationHandler).
 *
 * Off the sweep's path: the replica that announced the down queues the write, and the queue is
 * written one record at a time by compare-and-set, so a registration racing it always wins. At
 * most `maxPending` agents wait; beyond that a write is skipped, which only means such an agent
 * is kept one retention longer after a restart. Failures are dropped for the same reason.
 */
import type { RegistryStorePort } from './kv-registry-store';

export class GoneRecorder {
  private readonly pending = new Map<string, number>();
  private running?: Promise<void>;

  constructor(
    private readonly store: RegistryStorePort,
    private readonly maxPending = 10_000,
  ) {}

  /** The agent was declared down at `at`. */
  down(agentId: string, at: number): void {
    if (this.pending.size >= this.maxPending && !this.pending.has(agentId)) return;
    this.pending.set(agentId, at);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves once every queued write was tried. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    // A Map iterates entries added while it runs, so one pass writes everything queued meanwhile too.
    for (const [agentId, at] of this.pending) {
      this.pending.delete(agentId);
      await this.write(agentId, at).catch(() => undefined);
    }
  }

  private async write(agentId: string, at: number): Promise<void> {
    const stored = await this.store.read(agentId);
    const rec = stored?.record;
    // Departed (its own record says when), registered again since, or already recorded.
    if (!rec || rec.left || rec.registeredAt > at || (rec.goneAt ?? -Infinity) >= at) return;
    await this.store.putIf({ ...rec, goneAt: at }, stored.revision);
  }
}
