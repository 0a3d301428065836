/**
 * Records a key's `lastUsedAt` at most once per key per interval (default one minute), off the
 * request path: a busy key costs one KV write a minute, not one per request.
 */
import type { KeyRecord } from './key-record';

export interface UsageStore {
  /** Set lastUsedAt unless the record changed concurrently (compare-and-set). */
  touch(id: string, at: string): Promise<void>;
}

const MAX_TRACKED = 100_000;

export class UsageRecorder {
  private readonly lastWrite = new Map<string, number>();

  constructor(
    private readonly store: UsageStore,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /** Note a use; returns whether a write was started. */
  used(record: Pick<KeyRecord, 'id' | 'lastUsedAt'>): boolean {
    const now = this.now();
    const last = this.lastWrite.get(record.id) ?? (record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0);
    if (now - last < this.intervalMs) return false;
    if (this.lastWrite.size >= MAX_TRACKED) this.lastWrite.delete(this.lastWrite.keys().next().value as string);
    this.lastWrite.set(record.id, now);
    void this.write(record.id, new Date(now).toISOString()).catch(this.onError);
    return true;
  }

  private async write(id: string, at: string): Promise<void> {
    await this.store.touch(id, at);
  }
}
