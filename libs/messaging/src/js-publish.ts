/**
 * JetStream publishes (and KV writes, which are publishes to `$KV.<bucket>.<key>`) over the
 * connection's one muxed inbox (RequestMux), for the task hot path. `js.publish()` and
 * `kv.create/update()` in nats.js each make a request that builds a `RequestError` with a stack
 * trace when it completes (about 13 µs a write, measured); this parses the same PubAck without it.
 * Errors keep nats.js's shape (`api_error.err_code`), so callers test them the same way.
 */
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { Headers } from '@sb/contracts';
import type { RequestMux } from './request-mux';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface JsPublishOptions {
  /** Deduplication id within the stream's window (`Nats-Msg-Id`). */
  msgID?: string;
  /** Store only if the subject's last message has this sequence (0: the subject has none). */
  expectedLastSubjectSequence?: number;
  headers?: MsgHdrs;
  timeoutMs: number;
}

/** JetStream refused the write; `api_error.err_code` 10071 is "wrong last sequence" (a compare-and-set lost). */
export class JetStreamWriteError extends Error {
  constructor(readonly api_error: { code: number; err_code: number; description: string }) {
    super(api_error.description);
    this.name = 'JetStreamWriteError';
  }
}

const dec = new TextDecoder();

export async function jsPublish(mux: RequestMux, subject: string, data: Uint8Array, o: JsPublishOptions): Promise<PubAck> {
  let h = o.headers;
  if (o.msgID !== undefined || o.expectedLastSubjectSequence !== undefined) {
    h ??= natsHeaders();
    if (o.msgID !== undefined) h.set(Headers.MsgId, o.msgID);
    if (o.expectedLastSubjectSequence !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(o.expectedLastSubjectSequence));
  }
  const reply = await mux.request(subject, data, o.timeoutMs, h);
  const ack = JSON.parse(dec.decode(reply.data)) as Partial<PubAck> & { error?: { code: number; err_code: number; description: string } };
  if (ack.error) throw new JetStreamWriteError(ack.error);
  if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') throw new Error(`${subject}: not a JetStream publish acknowledgement`);
  return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate === true };
}

/** Compare-and-set writes to one KV bucket; `kv` is only the slow path for a key whose last entry is a delete. */
export class KvWriter {
  private readonly prefix: string;

  constructor(
    private readonly mux: RequestMux,
    private readonly kv: KV,
    bucket: string,
    private readonly timeoutMs: number,
  ) {
    this.prefix = `$KV.${bucket}.`;
  }

  /** Write `key` only if it has no value; the new revision. */
  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return (await jsPublish(this.mux, this.prefix + key, value, { expectedLastSubjectSequence: 0, timeoutMs: this.timeoutMs })).seq;
    } catch (e) {
      // A deleted or purged key still has a last entry (its marker): nats.js's create knows to write over it.
      if (e instanceof JetStreamWriteError && e.api_error.err_code === 10071) return this.kv.create(key, value);
      throw e;
    }
  }

  /** Write `key` only if its last revision is `revision`; the new revision. */
  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    return (await jsPublish(this.mux, this.prefix + key, value, { expectedLastSubjectSequence: revision, timeoutMs: this.timeoutMs })).seq;
  }
}
