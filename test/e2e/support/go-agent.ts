/**
 * The example Go agent (examples/go-agent) for e2e suites: built once per suite with Debian's Go
 * and nats.go (GOPATH mode, no go.mod), run as child processes a test can SIGTERM or SIGKILL,
 * whose JSON log lines a test can wait for.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = join(__dirname, '../../..');
/** Where Debian's golang-* -dev packages put their sources (golang-github-nats-io-go-nats-dev). */
const DEBIAN_GOPATH = '/usr/share/gocode';

/** One line the agent logged: `{time, level, msg, agentId, ...}` (or `{msg: <raw line>}` if not JSON). */
export type GoLogLine = { msg: string; level?: string } & Record<string, any>;

export function goInstalled(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Builds examples/go-agent into a temp dir; `remove()` deletes it. */
export async function buildGoAgent(): Promise<{ binary: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-go-agent-'));
  const binary = join(dir, 'go-agent');
  const env: NodeJS.ProcessEnv = { ...process.env, GOPATH: DEBIAN_GOPATH, GO111MODULE: 'off', GOFLAGS: '' };
  // Go needs a build cache; without HOME it has none, so give it one (kept across runs).
  if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME) env.GOCACHE = join(tmpdir(), 'sb-go-build-cache');
  await new Promise<void>((resolve, reject) =>
    execFile('go', ['build', '-o', binary, './examples/go-agent'], { cwd: REPO, env }, (err, _stdout, stderr) =>
      err ? reject(new Error(`go build ./examples/go-agent failed: ${stderr || err.message}`)) : resolve(),
    ),
  );
  return { binary, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface GoAgent {
  id: string;
  child: ChildProcess;
  /** Every line logged so far. */
  lines: GoLogLine[];
  /** Everything written to stdout and stderr, for failure messages. */
  output(): string;
  /** The first line (already logged or still to come) that matches; rejects if the agent exits first. */
  waitForLog(match: (l: GoLogLine) => boolean, opts?: { timeoutMs?: number; description?: string }): Promise<GoLogLine>;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs Go agents and kills whatever is still running on `killAll()`. */
export class GoAgents {
  private readonly all: GoAgent[] = [];

  constructor(private readonly binary: string) {}

  /** Starts one agent and resolves once it logged `go agent taking tasks` (it registered). */
  async start(env: Record<string, string> & { AGENT_ID: string }): Promise<GoAgent> {
    const agent = this.spawn(env);
    await agent.waitForLog((l) => l.msg === 'go agent taking tasks', { timeoutMs: 20_000, description: `${env.AGENT_ID} registered` });
    return agent;
  }

  spawn(env: Record<string, string> & { AGENT_ID: string }): GoAgent {
    const child = spawn(this.binary, [], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const lines: GoLogLine[] = [];
    const listeners = new Set<() => void>();
    // 'close', not 'exit': by then every line it wrote has been read.
    let closed = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => {
        closed = true;
        resolve({ code, signal });
        for (const l of [...listeners]) l();
      }),
    );
    createInterface({ input: child.stdout! }).on('line', (raw) => {
      out += raw + '\n';
      let line: GoLogLine;
      try {
        line = JSON.parse(raw) as GoLogLine;
      } catch {
        line = { msg: raw };
      }
      lines.push(line);
      for (const l of [...listeners]) l();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    const agent: GoAgent = {
      id: env.AGENT_ID,
      child,
      lines,
      output: () => out,
      exited,
      waitForLog(match, opts = {}) {
        const what = opts.description ?? 'a matching log line';
        return new Promise<GoLogLine>((resolve, reject) => {
          const check = () => {
            const found = lines.find(match);
            if (found) return done(undefined, found);
            if (closed) done(new Error(`${env.AGENT_ID} exited before logging ${what}:\n${out.slice(-3000)}`));
          };
          const timer = setTimeout(() => done(new Error(`${env.AGENT_ID} did not log ${what} within ${opts.timeoutMs ?? 10_000} ms:\n${out.slice(-3000)}`)), opts.timeoutMs ?? 10_000);
          const done = (err?: Error, line?: GoLogLine) => {
            clearTimeout(timer);
            listeners.delete(check);
            if (err) reject(err);
            else resolve(line!);
          };
          listeners.add(check);
          check();
        });
      },
      async kill(signal = 'SIGTERM') {
        if (!closed && child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    };
    this.all.push(agent);
    return agent;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.all.map((a) => a.kill('SIGKILL')));
  }
}
