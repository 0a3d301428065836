/**
 * Heartbeats from a thread of their own. Agents do CPU work on the main event loop (the
 * code-analysis agent parses up to 200 KB synchronously per block, ~1 s here, and several
 * concurrent tasks each run a block per loop turn), so a timer on the main loop can stall for
 * seconds while the worker is perfectly alive: busy, not dead. A worker thread
 * (heartbeat-thread.ts) with its own NATS connection beats on time regardless, using the latest
 * heartbeat the main loop handed it (held tasks, status), with fresh sequence, CPU and memory
 * figures.
 *
 * Busy is not hung: when the main loop has not handed over a heartbeat for `stallMs`, the
 * thread stops beating, so a worker stuck in an endless loop is declared down and its tasks
 * are reclaimed. If the thread cannot start, heartbeats go out from the main loop instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Heartbeat } from '@sb/contracts';
import type { FromThread, OutgoingMessage, ThreadOptions, ToThread } from './heartbeat-protocol';

export type { ThreadOptions } from './heartbeat-protocol';

export interface HeartbeatSender {
  /** The latest heartbeat content; `now` also sends it at once (e.g. draining). */
  update(hb: Heartbeat, now?: boolean): void;
  /** Stop beating; send `last` (final metrics, the deregistration) first, on this sender's own connection. */
  close(last?: OutgoingMessage[]): Promise<void>;
}

const THREAD_FILE = 'heartbeat-thread.js';

/**
 * The thread's compiled code: beside this file when it runs from the build (dist/), else the
 * build's copy of this folder (jest runs the TypeScript sources; `npm test` builds first). The
 * nearest ancestor with `dist/<same path>` wins, as tsc mirrors the tree (rootDir ".").
 */
export function heartbeatThreadFile(dir: string = __dirname): string {
  const beside = join(dir, THREAD_FILE);
  if (existsSync(beside)) return beside;
  for (let root = dirname(dir); root !== dirname(root); root = dirname(root)) {
    const built = join(root, 'dist', relative(root, dir), THREAD_FILE);
    if (existsSync(built)) return built;
  }
  throw new Error(`${THREAD_FILE} is neither beside ${dir} nor in a build of it under dist/: run "npm run build"`);
}

export class ThreadHeartbeatSender implements HeartbeatSender {
  private constructor(private readonly worker: Worker) {}

  /** Starts the thread and waits for its NATS connection; rejects if it cannot. */
  static async start(o: ThreadOptions, timeoutMs = 10_000): Promise<ThreadHeartbeatSender> {
    const worker = new Worker(heartbeatThreadFile(), { workerData: o });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('heartbeat thread did not connect in time')), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.on('message', function onMessage(m: FromThread) {
        if (m.type === 'ready') {
          clearTimeout(timer);
          worker.off('message', onMessage);
          resolve();
        } else if (m.type === 'failed') fail(new Error(m.error));
      });
    });
    worker.unref();
    return new ThreadHeartbeatSender(worker);
  }

  update(hb: Heartbeat, now = false): void {
    this.send({ type: 'update', hb, now });
  }

  async close(last?: OutgoingMessage[]): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.worker.on('message', (m: FromThread) => {
        if (m.type === 'closed') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    this.send({ type: 'close', last });
    await closed;
    await this.worker.terminate();
  }

  private send(m: ToThread): void {
    this.worker.postMessage(m);
  }
}

/** Beats from the main loop (fallback when the thread cannot run). */
export class DirectHeartbeatSender implements HeartbeatSender {
  constructor(
    private readonly publish: (hb: Heartbeat) => void,
    private readonly send: (subject: string, data: unknown) => void,
  ) {}
  update(hb: Heartbeat): void {
    this.publish(hb);
  }
  async close(last?: OutgoingMessage[]): Promise<void> {
    for (const l of last ?? []) this.send(l.subject, l.data);
  }
}
