/**
 * The dead-letter stream as a store: entries by stream sequence (the dead letter's id),
 * scans (an ordered consumer, newest kept last), deletes and purges. Entries are what the
 * worker wrote (DeadLetter: the task and every attempt's error).
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { DeadLetter, Names } from '@sb/contracts';
import { tryDecode } from '@sb/messaging';

export interface StoredDeadLetter {
  seq: number;
  entry: DeadLetter;
}

const FETCH_BATCH = 512;
const FETCH_EXPIRES_MS = 1_000;

function parse(seq: number, data: Uint8Array): StoredDeadLetter | undefined {
  const entry = tryDecode(data) as DeadLetter | undefined;
  if (!entry?.task?.taskId || !entry.task.tenantId || !Array.isArray(entry.errors)) return undefined;
  return { seq, entry };
}

export class DlqStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly n: Names,
  ) {}

  get stream(): string {
    return this.n.deadLetters.stream;
  }

  async get(seq: number): Promise<StoredDeadLetter | undefined> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { seq });
      return m ? parse(m.seq, m.data) : undefined;
    } catch (e) {
      if (/no message found|not found/i.test((e as Error).message ?? '')) return undefined;
      throw e;
    }
  }

  /** Entries in stream order (oldest first), for one capability or all, from `since`, at most `max`. */
  async scan(capability: string | undefined, since: string | undefined, max: number): Promise<StoredDeadLetter[]> {
    const filter = capability ? this.n.deadLetters.subject(capability) : this.n.deadLetters.all;
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
    const stored = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    if (stored === 0) return [];
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: filter,
      ...(since ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since } : {}),
    });
    const out: StoredDeadLetter[] = [];
    try {
      for (let done = false; !done; ) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: Math.min(FETCH_BATCH, max - out.length), expires: FETCH_EXPIRES_MS });
        for await (const m of batch) {
          got++;
          const row = parse(m.seq, m.data);
          if (row) out.push(row);
          // The last stored message: stop now rather than wait out the fetch.
          if (m.info.pending === 0 || out.length >= max) {
            done = true;
            break;
          }
        }
        if (got === 0) done = true;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return out;
  }

  /** True if it was there and is gone now. */
  async delete(seq: number): Promise<boolean> {
    try {
      return await this.jsm.streams.deleteMessage(this.stream, seq, false);
    } catch (e) {
      if (/no message found|not found|sequence/i.test((e as Error).message ?? '')) return false;
      throw e;
    }
  }

  /** Remove every entry (of one capability); returns how many. */
  async purge(capability?: string): Promise<number> {
    const r = await this.jsm.streams.purge(this.stream, capability ? { filter: this.n.deadLetters.subject(capability) } : undefined);
    return r.purged;
  }
}
