// Real nats-server and redis-server processes on loopback, for tests and for
// the `npm start` launcher. Readiness is the server answering its protocol
// (NATS `INFO` line, Redis `+PONG`), never a fixed sleep.
//
// No jest or testcontainers imports: scripts/start.ts loads this at runtime.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { forgetTempDir, ManagedProcess, removeOnExit } from './local-process';
import { findFreePort, probeNats, probeRedis, whichBinary } from './net-probes';
import type { HostPort } from './net-probes';

export * from './net-probes';
export { killAllNow, ManagedProcess, removeOnExit } from './local-process';
export type { ExitInfo, ManagedProcessOptions } from './local-process';

export interface ServerHandle {
  readonly kind: 'nats' | 'redis';
  readonly url: string;
  readonly port: number;
  /** pid of the current process (changes on restart). */
  readonly pid: number;
  /** JetStream store dir (NATS) or working dir (Redis). */
  readonly dataDir: string;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL after the grace. Data stays for restart(). */
  stop(): Promise<void>;
  /** Send a signal (e.g. SIGKILL for a crash test); await restart() or stop() afterwards. */
  kill(signal?: NodeJS.Signals): void;
  /** Stop if running, then start again on the same port with the same data dir. */
  restart(): Promise<void>;
  /** stop(), then remove the data dir if this module created it. */
  destroy(): Promise<void>;
  /** Last output lines of the current process. */
  outputTail(): string;
}

interface CommonOptions {
  /** Fixed port; by default a free one is picked (and re-picked if it was taken meanwhile). */
  port?: number;
  /** Explicit binary path; by default found with whichBinary(). */
  binary?: string;
  /** Overall readiness timeout per start. Default 15 s. */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace on stop. Default 5 s. */
  stopGraceMs?: number;
  /** Own process group (the launcher uses this so Ctrl-C reaches only itself). */
  detached?: boolean;
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  extraArgs?: string[];
}

export interface NatsServerOptions extends CommonOptions {
  /** JetStream store dir (`-sd`); created if missing. Default: a fresh temp dir. */
  storeDir?: string;
  /** Enable JetStream (`-js`). Default true. */
  jetstream?: boolean;
}

export interface RedisServerOptions extends CommonOptions {
  /** Working dir (`--dir`); created if missing. Default: a fresh temp dir. Nothing is persisted. */
  dir?: string;
}

interface ServerSpec {
  kind: 'nats' | 'redis';
  binaryName: string;
  scheme: string;
  dataDir: string;
  ownsDir: boolean;
  args: (port: number) => string[];
  probe: (target: HostPort) => Promise<void>;
}

const HOST = '127.0.0.1';

export function startNatsServer(opts: NatsServerOptions = {}): Promise<ServerHandle> {
  const jetstream = opts.jetstream ?? true;
  const { dir, owned } = prepareDir(opts.storeDir, 'sb-nats-');
  return startServer(opts, {
    kind: 'nats',
    binaryName: 'nats-server',
    scheme: 'nats',
    dataDir: dir,
    ownsDir: owned,
    args: (port) => [...(jetstream ? ['-js', '-sd', dir] : []), '-a', HOST, '-p', String(port), ...(opts.extraArgs ?? [])],
    probe: (target) => probeNats(target, jetstream),
  });
}

export function startRedisServer(opts: RedisServerOptions = {}): Promise<ServerHandle> {
  const { dir, owned } = prepareDir(opts.dir, 'sb-redis-');
  return startServer(opts, {
    kind: 'redis',
    binaryName: 'redis-server',
    scheme: 'redis',
    dataDir: dir,
    ownsDir: owned,
    args: (port) => [
      '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', ...(opts.extraArgs ?? []),
    ],
    probe: (target) => probeRedis(target),
  });
}

function prepareDir(given: string | undefined, tempPrefix: string): { dir: string; owned: boolean } {
  if (given) {
    const dir = resolve(given);
    mkdirSync(dir, { recursive: true });
    return { dir, owned: false };
  }
  const dir = mkdtempSync(join(tmpdir(), tempPrefix));
  removeOnExit(dir);
  return { dir, owned: true };
}

async function startServer(opts: CommonOptions, spec: ServerSpec): Promise<ServerHandle> {
  const binary = opts.binary ?? whichBinary(spec.binaryName);
  if (!binary) {
    throw new Error(`${spec.binaryName} not found on PATH, /usr/sbin or /usr/bin (Debian: apt-get install ${spec.binaryName})`);
  }
  const launchOnce = (port: number): Promise<ManagedProcess> => launch(binary, port, opts, spec);

  let port = opts.port ?? (await findFreePort(HOST));
  let proc: ManagedProcess;
  // A port picked by findFreePort can be taken by someone else before the server binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      proc = await launchOnce(port);
      break;
    } catch (err) {
      const portTaken = /address already in use|EADDRINUSE/i.test(String((err as Error).message));
      if (opts.port !== undefined || !portTaken || attempt >= 3) throw err;
      port = await findFreePort(HOST);
    }
  }

  const url = `${spec.scheme}://${HOST}:${port}`;
  const grace = opts.stopGraceMs ?? 5_000;
  const stop = async (): Promise<void> => {
    await proc.stop(grace);
  };
  return {
    kind: spec.kind,
    url,
    port,
    dataDir: spec.dataDir,
    get pid() {
      return proc.pid;
    },
    get running() {
      return proc.exit === undefined;
    },
    stop,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => proc.kill(signal),
    restart: async () => {
      await stop();
      proc = await launchOnce(port);
    },
    destroy: async () => {
      await stop();
      if (spec.ownsDir) {
        rmSync(spec.dataDir, { recursive: true, force: true });
        forgetTempDir(spec.dataDir);
      }
    },
    outputTail: () => proc.outputTail(),
  };
}

async function launch(binary: string, port: number, opts: CommonOptions, spec: ServerSpec): Promise<ManagedProcess> {
  const proc = new ManagedProcess({
    name: spec.binaryName,
    command: binary,
    args: spec.args(port),
    detached: opts.detached,
    onOutput: opts.onOutput,
  });
  const target = { host: HOST, port };
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (proc.exit) {
      throw new Error(`${proc.describeExit()} before it was ready on port ${port}.\n--- ${spec.binaryName} output (tail) ---\n${proc.outputTail()}`);
    }
    try {
      await spec.probe(target);
      return proc;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      await proc.stop(1_000);
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${spec.binaryName} did not become ready on ${HOST}:${port} within ${timeoutMs} ms (last probe: ${reason}).\n` +
          `--- ${spec.binaryName} output (tail) ---\n${proc.outputTail()}`,
      );
    }
    // Poll interval between protocol probes; wakes early if the process dies.
    await Promise.race([proc.exited, pause(50)]);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
