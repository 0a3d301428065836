/**
 * The peer row: what a Node.js team would pick for a durable job queue, BullMQ, on the bench's
 * own redis-server. The producer (`Queue.add` + `job.waitUntilFinished(queueEvents)`) runs in
 * the bench process; the Worker (an `echo` processor, at the loop's high concurrency) in a child
 * process of its own, as the agent-worker runs in its own. Same task and input as the other
 * round-trip rows (payload.ts), same closed loop.
 *
 * Connections: under this repo's CommonJS build BullMQ loads ioredis itself, so plain connection
 * options work and every Queue, QueueEvents and Worker opens and closes its own connections (a
 * constructed ioredis client is needed only in native ESM, and BullMQ then leaves closing it to
 * the caller). Finished jobs are kept (`removeOnComplete: { count }`), not removed at once:
 * waitUntilFinished reads the finished job when its event came first, and a job already removed
 * would fail the wait.
 *
 * Run as `node bullmq-peer.js bullmq-worker <redisUrl> <queue> <concurrency>` it is that child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type ConnectionOptions, type JobsOptions, Queue, QueueEvents, Worker } from 'bullmq';
import type { Target } from './floor';
import { type EchoInput, echoInput } from './payload';

const JOB = 'echo';
/** Far more than are ever in flight, so no job is removed before its waiter has read it. */
const KEEP_FINISHED = 10_000;
const JOB_OPTS: JobsOptions = { removeOnComplete: { count: KEEP_FINISHED }, removeOnFail: { count: KEEP_FINISHED } };

interface EchoJob {
  capability: 'echo';
  input: EchoInput;
}

function connectionOf(redisUrl: string): ConnectionOptions {
  const u = new URL(redisUrl);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** `workerConcurrency`: the Worker's, as the agent-worker's WORKER_CONCURRENCY (the loop's high concurrency). */
export async function startBullmqPeer(redisUrl: string, workerConcurrency: number): Promise<Target> {
  const name = `bench-echo-${randomBytes(4).toString('hex')}`;
  const connection = connectionOf(redisUrl);
  const queue = new Queue<EchoJob>(name, { connection });
  const events = new QueueEvents(name, { connection });
  // Each waiting job listens for the queue closing: the loop keeps up to `workerConcurrency` waiting.
  queue.setMaxListeners(workerConcurrency + 10);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const child = await spawnWorker(redisUrl, name, workerConcurrency);
  let seq = 0;
  return {
    op: async () => {
      const n = ++seq;
      const job = await queue.add(JOB, { capability: 'echo', input: echoInput(n) }, JOB_OPTS);
      // No per-operation timer (as the floor): the session bounds each measurement.
      const result = (await job.waitUntilFinished(events)) as { echo?: EchoInput } | undefined;
      if (result?.echo?.n !== n) throw new Error(`job ${job.id} finished with ${JSON.stringify(result).slice(0, 200)}`);
    },
    pids: { 'bullmq worker': child.pid },
    close: async () => {
      await stopChild(child);
      await events.close();
      await queue.close();
    },
  };
}

function spawnWorker(redisUrl: string, queue: string, concurrency: number): Promise<ChildProcess> {
  const child = fork(__filename, ['bullmq-worker', redisUrl, queue, String(concurrency)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise<ChildProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the BullMQ worker did not start in 15 s'));
    }, 15_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the BullMQ worker exited early (${code})`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The child: a BullMQ Worker that answers every job with `{ echo: input }`. */
async function runWorker(redisUrl: string, queue: string, concurrency: number): Promise<void> {
  const worker = new Worker<EchoJob>(queue, async (job) => ({ echo: job.data.input }), { connection: connectionOf(redisUrl), concurrency });
  worker.on('error', (e) => process.stderr.write(`bullmq worker: ${e.message}\n`));
  await worker.waitUntilReady();
  const stop = (): void => {
    void worker.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop); // the bench died: don't linger
  process.send?.('ready');
}

if (require.main === module && process.argv[2] === 'bullmq-worker') {
  const [, , , url, queue, concurrency] = process.argv;
  runWorker(url, queue, Number(concurrency)).catch((e: unknown) => {
    process.stderr.write(`bullmq worker failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
