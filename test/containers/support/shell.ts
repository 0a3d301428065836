/**
 * Commands for the container test: every call and its output go to one log file (its path is
 * printed), so a failure shows what the engine said without flooding jest's output.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Kill the command after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Resolve with a non-zero code instead of rejecting. */
  allowFailure?: boolean;
}

export class Shell {
  readonly logFile: string;

  constructor(readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
    this.logFile = join(logDir, 'commands.log');
  }

  log(line: string): void {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line}\n`);
  }

  run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    this.log(`$ ${[cmd, ...args].join(' ')}`);
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${cmd} could not start: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const result = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
        this.log(`  -> exit ${result.code}${signal ? ` (${signal})` : ''} in ${Date.now() - started} ms`);
        if (result.stdout.trim()) this.log(indent(result.stdout));
        if (result.stderr.trim()) this.log(indent(result.stderr));
        if (result.code !== 0 && !opts.allowFailure) {
          const tail = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`${cmd} ${args.slice(0, 6).join(' ')}… exited ${result.code} (full log: ${this.logFile}):\n${tail}`));
          return;
        }
        resolve(result);
      });
      child.stdin.end(opts.input ?? '');
    });
  }
}

const indent = (text: string) => text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');

/** Is `cmd` runnable (`cmd <args>` exits 0)? */
export async function works(cmd: string, args: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}
