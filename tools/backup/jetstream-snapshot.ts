/**
 * JetStream's own snapshot and restore of one stream (a KV bucket is the stream `KV_<bucket>`),
 * as the `nats` CLI does it (nats-io/jsm.go snapshots.go; nats-server jetstream_api.go
 * jsStreamSnapshotRequest / jsStreamRestoreRequest). Works on a running server: the server
 * takes a consistent snapshot of the stream and its consumers and streams it out.
 *
 * Snapshot: subscribe to a fresh inbox, then `$JS.API.STREAM.SNAPSHOT.<stream>` with
 * `{deliver_subject, chunk_size, jsck}`. The reply carries the stream's config and state; the
 * snapshot (an s2-compressed tar) arrives on the inbox in chunks. A chunk with a reply subject is
 * acknowledged by answering it (the server's flow control: it holds back past an 8 MiB window);
 * an empty message ends it, with a status header other than 204 when the server failed.
 *
 * Restore: `$JS.API.STREAM.RESTORE.<stream>` with `{config, state}`; the reply names a deliver
 * subject. Each chunk is a request to it (an empty reply acknowledges it), an empty request ends
 * the upload, and its reply is the stream-create response once the server has unpacked it.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { BackupError } from './backup-error';
import { jsApi, natsFailure, parseJson } from './backup-nats';

export interface StreamSnapshot {
  config: Record<string, unknown>;
  state: Record<string, unknown>;
  bytes: number;
  sha256: string;
}

export interface SnapshotOptions {
  /** Bytes per chunk the server sends (the `nats` CLI uses 128 KiB). */
  chunkSize?: number;
  /** Have the server check every message's checksum first (`jsck`): slower, catches a corrupt store. */
  checkMsgs?: boolean;
  /** API request timeout. */
  timeoutMs?: number;
  /** Fail if no chunk arrives for this long (a server that died mid-snapshot). */
  idleTimeoutMs?: number;
}

const DEFAULTS = { chunkSize: 128 * 1024, timeoutMs: 30_000, idleTimeoutMs: 30_000 };

/** The snapshot of `stream` written to `file` (created, mode 0600; removed again on failure). */
export async function snapshotStream(
  nc: NatsConnection,
  stream: string,
  file: string,
  opts: SnapshotOptions = {},
): Promise<StreamSnapshot> {
  const o = { ...DEFAULTS, ...opts };
  const fd = openSync(file, 'wx', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  let finish!: (err?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
  // It may fail before it is awaited (a chunk while the API request is in flight): not an unhandled rejection.
  done.catch(() => undefined);
  let idle: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(idle);
    const silent = () => finish(new BackupError('BACKUP.NATS_UNAVAILABLE', `snapshot of ${stream}: no data for ${o.idleTimeoutMs} ms`));
    idle = setTimeout(silent, o.idleTimeoutMs);
  };

  const onChunk = (m: Msg) => {
    if (m.data.length === 0) {
      // The end. A newer server says why it stopped early in a status header; 2.9 sends a bare empty message.
      const code = m.headers?.code ?? 0;
      const why = `${code} ${m.headers?.description ?? ''}`.trim();
      if (code !== 0 && code !== 204) finish(new BackupError('BACKUP.JETSTREAM_ERROR', `snapshot of ${stream} failed on the server: ${why}`));
      else finish();
      return;
    }
    // Acknowledge first (as jsm.go does): the data is in memory; the server's flow control need not wait on the disk.
    if (m.reply) m.respond();
    writeSync(fd, m.data);
    hash.update(m.data);
    bytes += m.data.length;
    touch();
  };
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, {
    callback: (err, m) => {
      if (err) finish(natsFailure(`snapshot of ${stream}`, err));
      else {
        try {
          onChunk(m);
        } catch (e) {
          finish(new BackupError('BACKUP.IO_ERROR', `snapshot of ${stream}: writing ${file}: ${(e as Error).message}`));
        }
      }
    },
  });
  try {
    // The server waits up to 2 s for interest in the deliver subject: make sure it has it.
    await nc.flush();
    const reply = await jsApi<{ config: Record<string, unknown>; state: Record<string, unknown> }>(
      nc,
      `$JS.API.STREAM.SNAPSHOT.${stream}`,
      { deliver_subject: inbox, chunk_size: o.chunkSize, ...(o.checkMsgs ? { jsck: true } : {}) },
      o.timeoutMs,
    );
    touch();
    await done;
    fsyncSync(fd);
    return { config: reply.config, state: reply.state, bytes, sha256: hash.digest('hex') };
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  } finally {
    clearTimeout(idle);
    sub.unsubscribe();
    closeSync(fd);
  }
}

export interface RestoreOptions {
  /** Bytes per chunk sent (the `nats` CLI sends 64 KiB; the server takes up to its max_payload). */
  chunkSize?: number;
  timeoutMs?: number;
  /** How long the server may take to unpack and load the stream after the last chunk. */
  finishTimeoutMs?: number;
}

/** The state JetStream reports for the restored stream. */
export async function restoreStream(
  nc: NatsConnection,
  entry: { name: string; config: Record<string, unknown>; state: Record<string, unknown> },
  file: string,
  opts: RestoreOptions = {},
): Promise<{ state: Record<string, unknown> }> {
  const chunkSize = opts.chunkSize ?? 128 * 1024;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const what = `restore of ${entry.name}`;
  const request = { config: entry.config, state: entry.state };
  const { deliver_subject: deliver } = await jsApi<{ deliver_subject?: string }>(nc, `$JS.API.STREAM.RESTORE.${entry.name}`, request, timeoutMs);
  if (!deliver) throw new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: the server named no deliver subject`);

  const send = async (chunk: Uint8Array, timeout: number): Promise<Msg> => {
    try {
      return await nc.request(deliver, chunk, { timeout });
    } catch (err) {
      throw natsFailure(what, err);
    }
  };
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      // The server copies each chunk into its staging file before it answers: the buffer can be reused.
      const ack = await send(buf.subarray(0, n), timeoutMs);
      // An empty answer acknowledges the chunk; anything else is the server giving up (`-ERR ...` or an error response).
      if (ack.data.length > 0) {
        throw new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: the server stopped it: ${describeReply(ack.data)}`);
      }
    }
  } finally {
    closeSync(fd);
  }
  const final = parseJson((await send(new Uint8Array(0), opts.finishTimeoutMs ?? 10 * 60_000)).data, what) as {
    error?: { description?: string; err_code?: number; code?: number };
    state?: Record<string, unknown>;
  };
  if (final.error) {
    throw new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: ${final.error.description ?? 'failed'} (${final.error.err_code ?? final.error.code})`);
  }
  if (!final.state) throw new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: the server's final reply has no stream state`);
  return { state: final.state };
}

function describeReply(data: Uint8Array): string {
  const text = new TextDecoder().decode(data.subarray(0, 500));
  try {
    const j = JSON.parse(text) as { error?: { description?: string } };
    return j.error?.description ?? text;
  } catch {
    return text;
  }
}

/** Deletes a stream (restore --force replaces what is there). */
export async function deleteStream(nc: NatsConnection, stream: string, timeoutMs = 30_000): Promise<void> {
  await jsApi(nc, `$JS.API.STREAM.DELETE.${stream}`, {}, timeoutMs);
}
