// A child process we own: output tail for error messages, an exit promise,
// graceful stop (SIGTERM, then SIGKILL after a grace) and a safety net that
// kills whatever is still running when this Node process exits.
//
// No jest or testcontainers imports: the `npm start` launcher loads this at runtime.
import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  /** Short name used in messages, e.g. `nats-server`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run in its own process group, so a terminal's Ctrl-C reaches only the parent. */
  detached?: boolean;
  /** Called with every output line (stdout and stderr), without the newline. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** How many output lines to keep for error messages. Default 40. */
  tailLines?: number;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

/** Synchronously SIGKILL every process started here that is still running and remove registered temp dirs. */
export function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous. Note: a death by signal skips 'exit'
  // handlers; hosts that want cleanup then call killAllNow() from their signal handler.
  process.once('exit', killAllNow);
}

/** Remove `dir` when this process exits, unless it was removed before. */
export function removeOnExit(dir: string): void {
  installExitHook();
  tempDirs.add(dir);
}

export function forgetTempDir(dir: string): void {
  tempDirs.delete(dir);
}

export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  private readonly tail: string[] = [];
  private exitInfo: ExitInfo | undefined;

  constructor(private readonly opts: ManagedProcessOptions) {
    installExitHook();
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: opts.detached ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        live.delete(this.child);
        resolve(info);
      };
      this.child.once('exit', (code, signal) => done({ code, signal }));
      // spawn failures (ENOENT, EACCES) emit 'error' and no 'exit'.
      this.child.once('error', (err) => {
        this.pushLine(`spawn error: ${err.message}`);
        done({ code: null, signal: null });
      });
    });
    this.pipeLines(this.child.stdout, 'stdout');
    this.pipeLines(this.child.stderr, 'stderr');
  }

  get name(): string {
    return this.opts.name;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Undefined while running. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** The last output lines, for error messages. */
  outputTail(): string {
    return this.tail.join('\n');
  }

  /** Send a signal; a no-op once the process has exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.exitInfo || this.child.pid === undefined) return;
    try {
      this.child.kill(signal);
    } catch {
      // raced with its exit
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves on exit. */
  async stop(graceMs = 5_000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    const first = await Promise.race([this.exited.then(() => 'exited' as const), escalate.then(() => 'grace' as const)]);
    clearTimeout(timer);
    if (first === 'grace') this.kill('SIGKILL');
    return this.exited;
  }

  describeExit(): string {
    const info = this.exitInfo;
    if (!info) return `${this.name} (pid ${this.pid}) is running`;
    return info.signal
      ? `${this.name} (pid ${this.pid}) was killed by ${info.signal}`
      : `${this.name} (pid ${this.pid}) exited with code ${info.code ?? 'unknown'}`;
  }

  private pushLine(line: string): void {
    this.tail.push(line);
    const max = this.opts.tailLines ?? 40;
    if (this.tail.length > max) this.tail.splice(0, this.tail.length - max);
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const line of parts) this.emitLine(line, name);
    });
    stream.on('end', () => {
      if (partial) this.emitLine(partial, name);
      partial = '';
    });
  }

  private emitLine(line: string, stream: 'stdout' | 'stderr'): void {
    this.pushLine(line);
    this.opts.onOutput?.(line, stream);
  }
}
