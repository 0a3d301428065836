/**
 * The raw floor for a task round trip: plain nats.js, no framework. The client publishes a
 * "task" to a work-queue stream and waits for the publish ack; a durable pull consumer in a
 * child process (the worker, as in the fleet) takes it with `consume()`, publishes the reply
 * to the inbox the task carries in a header, and acks. The client's latency is publish →
 * reply (and the publish ack, which always comes first). Both connect as platform users with no
 * subject limits, on the same nats-server (operator mode) as the rows compared with it.
 *
 * Run as `node floor.js floor-consumer <natsUrl> <stream> <durable>` (its `.creds` text in
 * BENCH_NATS_CREDS) it is that child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { createInbox, headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type BenchNats, credsOptions } from './bench-nats';
import { echoInput } from './payload';

const STREAM = 'BENCH_FLOOR';
const SUBJECT = 'bench.floor.echo';
const DURABLE = 'floor';
const REPLY_HEADER = 'Bench-Reply';
const CREDS_ENV = 'BENCH_NATS_CREDS';
const enc = new TextEncoder();
const dec = new TextDecoder();

export interface Target {
  op: () => Promise<unknown>;
  close(): Promise<void>;
  /** Extra processes doing this target's work, for the CPU table. */
  pids?: Record<string, number | undefined>;
}

export async function startJetStreamFloor(nats: BenchNats): Promise<Target> {
  const nc: NatsConnection = await connect(await nats.platform('bench-floor-client'));
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: ['bench.floor.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
  await jsm.consumers.add(STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
  const js = jetstream(nc);

  const child = await spawnConsumer(nats.url, await nats.platformCreds('bench-floor-worker'));
  const inbox = createInbox();
  const pending = new Map<string, (data: Uint8Array) => void>();
  nc.subscribe(`${inbox}.*`, {
    callback: (_err, msg) => {
      const done = pending.get(msg.subject);
      if (done) {
        pending.delete(msg.subject);
        done(msg.data);
      }
    },
  });
  let seq = 0;

  const op = async (): Promise<unknown> => {
    const reply = `${inbox}.${++seq}`;
    const h = natsHeaders();
    h.set(REPLY_HEADER, reply);
    const replied = new Promise<Uint8Array>((resolve) => pending.set(reply, resolve));
    const body = enc.encode(JSON.stringify({ capability: 'echo', input: echoInput(seq) }));
    // No per-operation timer here (it would flatter the ratios); the session bounds each measurement.
    const [, data] = await Promise.all([js.publish(SUBJECT, body, { headers: h }), replied]);
    return JSON.parse(dec.decode(data));
  };

  return {
    op,
    pids: { 'floor worker': child.pid },
    close: async () => {
      await stopChild(child);
      await jsm.streams.delete(STREAM).catch(() => undefined);
      await nc.drain().catch(() => undefined);
    },
  };
}

function spawnConsumer(natsUrl: string, creds: string): Promise<ChildProcess> {
  // The credentials in the environment, not the arguments: `ps` shows arguments to everyone.
  const env = { ...process.env, [CREDS_ENV]: creds };
  const child = fork(__filename, ['floor-consumer', natsUrl, STREAM, DURABLE], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('floor consumer did not start in 10 s'));
    }, 10_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`floor consumer exited early (${code})`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** The child: a plain pull consumer that answers every task with `{ echo: input }`. */
async function runConsumer(natsUrl: string, stream: string, durable: string, creds: string): Promise<void> {
  const nc: NatsConnection = await connect(credsOptions(natsUrl, creds, 'bench-floor-worker'));
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 256 });
  const stop = (): void => {
    messages.stop();
    void nc.drain().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop); // the bench died: don't linger
  process.send?.('ready');
  for await (const m of messages) {
    const reply = m.headers?.get(REPLY_HEADER);
    const task = JSON.parse(dec.decode(m.data)) as { input?: unknown };
    if (reply) nc.publish(reply, enc.encode(JSON.stringify({ echo: task.input })));
    m.ack();
  }
}

if (require.main === module && process.argv[2] === 'floor-consumer') {
  const [, , , url, stream, durable] = process.argv;
  runConsumer(url, stream, durable, process.env[CREDS_ENV] ?? '').catch((e: unknown) => {
    process.stderr.write(`floor consumer failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
