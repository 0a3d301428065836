/**
 * A service as it is deployed: its built main (dist/, or SB_DIST_DIR) in a process of its own,
 * whose memory is its own to measure. Its log goes to a file, not through a pipe to the test
 * process: a test busy simulating thousands of agents would read a pipe late, and a service
 * whose log writes block is no longer the service being measured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '@sb/testing';

const REPO = join(__dirname, '../../..');
const DIST = process.env.SB_DIST_DIR ?? join(REPO, 'dist');

export interface BuiltService {
  child: ChildProcess;
  pid: number;
  port: number;
  log(): string;
  alive(): boolean;
  kill(): Promise<void>;
}

/** Start `apps/<app>` with `env` (HTTP_PORT included) and resolve once its /health/ready answers 200. */
export async function startBuiltService(app: string, env: Record<string, string>, logFile: string): Promise<BuiltService> {
  const main = join(DIST, `apps/${app}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [main], { env: { ...process.env, NODE_PATH: join(REPO, 'node_modules'), ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const port = Number(env.HTTP_PORT);
  const svc: BuiltService = {
    child,
    pid: child.pid!,
    port,
    log: () => readFileSync(logFile, 'utf8'),
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: async () => {
      if (!svc.alive()) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
  };
  await eventually(
    async () => {
      if (!svc.alive()) throw new Error(`${app} exited: ${svc.log().slice(-2000)}`);
      return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 100, description: `${app} ready` },
  );
  return svc;
}
