/**
 * A KV bucket mirrored in memory: a watch keeps every replica's copy current (its own writes
 * and other replicas'), and every write is a compare-and-set on the revision this copy holds,
 * so two replicas deciding the same transition at once cannot both win. The loser re-reads and
 * decides again (usually: nothing left to do).
 */
import type { KV, KvEntry } from '@nats-io/kv';

export interface Versioned<T> {
  value: T;
  revision: number;
}
/** `undefined` = no change; `null` = delete the entry. */
export type Decision<T> = T | null | undefined;

const MAX_CAS_ATTEMPTS = 16;
const INITIAL_LOAD_GRACE_MS = 10_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function isWrongRevision(e: unknown): boolean {
  const err = e as { message?: string; api_error?: { err_code?: number } };
  return err?.api_error?.err_code === 10071 || err?.api_error?.err_code === 10058 || /wrong last sequence|wrong last msg|key exists/i.test(err?.message ?? '');
}

export class WatchedKv<T> {
  private readonly entries = new Map<string, Versioned<T>>();
  /** Highest revision seen per key, deletes included, so a late watch event never resurrects an entry. */
  private readonly seen = new Map<string, number>();
  private stopWatch?: () => void;
  private watching?: Promise<void>;

  constructor(
    readonly kv: KV,
    /** Keys to mirror (a subject-style filter; every key by default). */
    private readonly filter = '>',
  ) {}

  private readonly listeners: Array<(key: string, value: T | undefined, prev: T | undefined) => void> = [];
  /** Called on every change this copy sees (own writes and other replicas'), with the previous value. */
  onChange(listener: (key: string, value: T | undefined, prev: T | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** Loads every current value, then follows changes. Resolves once the initial values are in. */
  async start(): Promise<void> {
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (markReady = r));
    // Initial values arrive first (isUpdate false); an empty bucket has none to wait for.
    const expected = (await this.kv.status()).values;
    if (expected === 0) markReady();
    const iter = await this.kv.watch({ key: this.filter });
    this.stopWatch = () => iter.stop();
    let received = 0;
    this.watching = (async () => {
      for await (const e of iter) {
        this.apply(e);
        received += 1;
        if (e.isUpdate || received >= expected) markReady();
      }
    })();
    // Never hang a boot on a count that moved between status() and watch(): after a grace
    // period the copy is used as it is (the watch keeps filling it).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<void>((r) => (timer = setTimeout(r, INITIAL_LOAD_GRACE_MS)))]);
    clearTimeout(timer);
  }

  stop(): void {
    this.stopWatch?.();
  }

  get(key: string): Versioned<T> | undefined {
    return this.entries.get(key);
  }
  values(): T[] {
    return [...this.entries.values()].map((e) => e.value);
  }
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Insert only if absent (also after a delete). False when the key exists. */
  async create(key: string, value: T): Promise<boolean> {
    try {
      const rev = await this.kv.create(key, enc.encode(JSON.stringify(value)));
      this.set(key, value, rev);
      return true;
    } catch (e) {
      if (isWrongRevision(e) || /exists/i.test((e as Error).message)) return false;
      throw e;
    }
  }

  /**
   * Read-decide-write under compare-and-set. `decide` sees the current value (undefined when
   * absent) and returns the next value, `null` to delete, or `undefined` for no change. Returns
   * what was written (`null` for a delete), or `undefined` when nothing was.
   */
  async mutate(key: string, decide: (cur: T | undefined) => Decision<T>): Promise<{ prev: T | undefined; next: T | null } | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const cur = this.entries.get(key);
      const next = decide(cur?.value);
      if (next === undefined) return undefined;
      try {
        if (next === null) {
          if (!cur) return undefined;
          await this.kv.delete(key, { previousSeq: cur.revision });
          this.remove(key, cur.revision + 1);
        } else if (cur) {
          this.set(key, next, await this.kv.update(key, enc.encode(JSON.stringify(next)), cur.revision));
        } else {
          this.set(key, next, await this.kv.create(key, enc.encode(JSON.stringify(next))));
        }
        return { prev: cur?.value, next };
      } catch (e) {
        if (!isWrongRevision(e) && !/exists/i.test((e as Error).message)) throw e;
        await this.refresh(key);
      }
    }
    throw new Error(`${key}: too many concurrent writers`);
  }

  /** Re-read one key from the server (after losing a compare-and-set). */
  async refresh(key: string): Promise<void> {
    const e = await this.kv.get(key);
    if (e) this.apply(e, true);
    else this.remove(key, 0, true);
  }

  private apply(e: KvEntry, force = false): void {
    if (e.operation === 'PUT' && e.length > 0) {
      try {
        this.set(e.key, JSON.parse(dec.decode(e.value)) as T, e.revision, force);
      } catch {
        // A value this version cannot read is ignored rather than crashing the watch.
      }
    } else this.remove(e.key, e.revision, force);
  }

  private set(key: string, value: T, revision: number, force = false): void {
    if (!force && (this.seen.get(key) ?? 0) >= revision) return;
    this.seen.set(key, revision);
    const prev = this.entries.get(key)?.value;
    this.entries.set(key, { value, revision });
    for (const l of this.listeners) l(key, value, prev);
  }

  private remove(key: string, revision: number, force = false): void {
    if (!force && (this.seen.get(key) ?? 0) >= revision) return;
    this.seen.set(key, Math.max(revision, this.seen.get(key) ?? 0));
    const prev = this.entries.get(key)?.value;
    if (this.entries.delete(key)) for (const l of this.listeners) l(key, undefined, prev);
  }
}
