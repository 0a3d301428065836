/**
 * A task was dead-lettered: every replica hears it, the leader alone feeds it to the poison
 * watch (one alert per poison input across replicas). A body that is not a dead letter is ignored.
 */
import type { DeadLetter } from '@sb/contracts';
import type { PoisonWatch } from './poison-watch';

export class DeadLetteredHandler {
  constructor(
    private readonly watch: Pick<PoisonWatch, 'observe'>,
    private readonly lease: { isLeader(): boolean },
    private readonly now: () => number = Date.now,
  ) {}

  onDeadLetter(body: unknown): void {
    if (!this.lease.isLeader()) return;
    const entry = body as DeadLetter | undefined;
    if (entry?.task?.capability && Array.isArray(entry.errors)) this.watch.observe(entry, this.now());
  }
}
