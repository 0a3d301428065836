/** Running tasks' abort controllers, so a cancel or timeout broadcast can reach the agent. */
/** `lost_lease`: recovery reclaimed the task from this worker (it was declared down); stop without settling. */
export type AbortReason = 'cancelled' | 'timed_out' | 'shutdown' | 'lost_lease';

export class AbortRegistry {
  private readonly running = new Map<string, AbortController>();

  add(taskId: string): AbortController {
    const c = new AbortController();
    this.running.set(taskId, c);
    return c;
  }

  remove(taskId: string): void {
    this.running.delete(taskId);
  }

  abort(taskId: string, reason: AbortReason): boolean {
    const c = this.running.get(taskId);
    if (!c || c.signal.aborted) return false;
    c.abort(reason);
    return true;
  }

  abortAll(reason: AbortReason): void {
    for (const id of this.running.keys()) this.abort(id, reason);
  }

  get size(): number {
    return this.running.size;
  }
}
