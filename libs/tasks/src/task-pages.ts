/**
 * A tenant's task records a page at a time, reading at most a budget of records per call, never
 * a listing of every key. The records bucket keeps one entry per key (history 1), so its stream
 * holds exactly the current records, in the order they were last written: a page is read from
 * the end of the stream backwards, most recently changed first. The cursor is a stream sequence
 * (opaque to clients); the next page holds what was written before it.
 *
 * How a call stays bounded: it reads windows of sequences `[start, top)`, newest first. Before a
 * window is read the server says how many of the tenant's records it holds (the pending count of
 * a short-lived consumer filtered to the tenant's keys, taken at `start`, minus the one taken at
 * `top`), and a window that would go over what the budget has left is narrowed first. Records
 * are then fetched one by one with direct gets filtered to the tenant (`next_by_subj`).
 *
 * A record changed while a client pages moves to the front: that pass does not show it again
 * (a fresh first page does). Finished records never change, so paging over them is exact.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { TaskRecord } from '@sb/contracts';

export interface TaskPageQuery {
  /** Most records returned. */
  limit: number;
  /** Records read at most (matching the filter or not). */
  scanMax: number;
  /** From `next` of the previous page; absent: the newest records. */
  cursor?: string;
  filter?: (r: TaskRecord) => boolean;
}

export interface TaskPage {
  records: TaskRecord[];
  /** Where the next page starts; absent when nothing older is left. */
  next?: string;
  /** Records read to answer (at most `scanMax`). */
  scanned: number;
}

const decoder = new TextDecoder();
const PROBE_IDLE_MS = 30_000;

export class TaskPages {
  constructor(
    private readonly jsm: JetStreamManager,
    /** The bucket's stream (`KV_<bucket>`). */
    private readonly stream: string,
    /** The bucket's subjects (`$KV.<bucket>.`). */
    private readonly subjectPrefix: string,
  ) {}

  async page(tenantId: string, q: TaskPageQuery): Promise<TaskPage> {
    const tenantKeys = `${this.subjectPrefix}${tenantId}.*`;
    const { state } = await this.jsm.streams.info(this.stream);
    const floor = Math.max(1, state.first_seq);
    const end = state.last_seq + 1;
    let top = q.cursor === undefined ? end : Math.min(Number(q.cursor), end);
    const out: TaskRecord[] = [];
    let scanned = 0;
    if (top <= floor || state.messages === 0) return { records: out, scanned };
    let pendingAtTop = top >= end ? 0 : await this.pendingFrom(tenantKeys, top);
    let span = top - floor;
    while (top > floor && scanned < q.scanMax) {
      const start = Math.max(floor, top - span);
      const pendingAtStart = await this.pendingFrom(tenantKeys, start);
      const inWindow = pendingAtStart - pendingAtTop;
      if (inWindow > q.scanMax - scanned && top - start > 1) {
        // Too many for what is left: answer with what is read, or narrow the window and ask again.
        if (scanned > 0) return { records: out, next: String(top), scanned };
        span = Math.max(1, Math.floor((top - start) / 4));
        continue;
      }
      const { rows, fetched } = inWindow > 0 ? await this.read(tenantKeys, start, top, Math.min(inWindow, q.scanMax - scanned)) : { rows: [], fetched: 0 };
      scanned += fetched;
      for (const row of rows.reverse()) {
        if (q.filter && !q.filter(row.record)) continue;
        out.push(row.record);
        if (out.length >= q.limit) return { records: out, next: String(row.seq), scanned };
      }
      top = start;
      pendingAtTop = pendingAtStart;
      span *= 2;
    }
    return top > floor ? { records: out, next: String(top), scanned } : { records: out, scanned };
  }

  /** How many of the tenant's records sit at sequence `seq` or later (a consumer's pending count, then the consumer goes). */
  private async pendingFrom(subject: string, seq: number): Promise<number> {
    const ci = await this.jsm.consumers.add(this.stream, {
      filter_subject: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: seq,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(PROBE_IDLE_MS),
    });
    await this.jsm.consumers.delete(this.stream, ci.name).catch(() => undefined);
    return ci.num_pending;
  }

  /**
   * The tenant's records in `[start, top)`, oldest first, fetching at most `max` messages. The
   * window holds at most what was counted (new writes land above `top`; records in it can only
   * leave), so `max` = its count reads all of it.
   */
  private async read(subject: string, start: number, top: number, max: number): Promise<{ rows: Array<{ seq: number; record: TaskRecord }>; fetched: number }> {
    const rows: Array<{ seq: number; record: TaskRecord }> = [];
    let fetched = 0;
    for (let seq = start; fetched < max; fetched++) {
      const m = await this.jsm.direct.getMessage(this.stream, { seq, next_by_subj: subject });
      if (!m) break;
      if (m.seq >= top) return { rows, fetched: fetched + 1 };
      seq = m.seq + 1;
      // A delete or purge marker has no body: nothing to show.
      if (m.data.length > 0) rows.push({ seq: m.seq, record: JSON.parse(decoder.decode(m.data)) as TaskRecord });
    }
    return { rows, fetched };
  }
}
