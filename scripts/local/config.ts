// Everything the launcher reads from argv and env, parsed once.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface LauncherConfig {
  repoRoot: string;
  /** Holds `<app>/src/main.js` for every app (default `<repo>/dist/apps`). */
  appsDir: string;
  dataDir: string;
  natsUrl: string;
  redisUrl: string;
  adminKeyFromEnv?: string;
  agentKeyFromEnv?: string;
  exitAfterDemo: boolean;
  readyTimeoutMs: number;
  stopGraceMs: number;
}

const USAGE = 'usage: npm start [-- --demo-only-exit]   (env: NATS_URL, REDIS_URL, SB_BOOTSTRAP_ADMIN_KEY, SB_BOOTSTRAP_AGENT_KEY, SB_KEK_FILE, SB_START_EXIT_AFTER_DEMO=1)';

export function parseLauncherConfig(argv: string[], env: NodeJS.ProcessEnv, fromDir: string): LauncherConfig {
  let exitAfterDemo = env.SB_START_EXIT_AFTER_DEMO === '1' || env.SB_START_EXIT_AFTER_DEMO === 'true';
  for (const arg of argv) {
    if (arg === '--demo-only-exit') exitAfterDemo = true;
    else if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    else throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
  }
  const repoRoot = findRepoRoot(fromDir);
  return {
    repoRoot,
    appsDir: env.SB_START_APPS_DIR ? resolve(env.SB_START_APPS_DIR) : join(repoRoot, 'dist', 'apps'),
    dataDir: join(repoRoot, '.data'),
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    adminKeyFromEnv: env.SB_BOOTSTRAP_ADMIN_KEY || undefined,
    agentKeyFromEnv: env.SB_BOOTSTRAP_AGENT_KEY || undefined,
    exitAfterDemo,
    readyTimeoutMs: 30_000,
    stopGraceMs: 15_000,
  };
}

export class UsageError extends Error {}

/** The nearest directory upwards holding package.json (dist/scripts → repo root). */
function findRepoRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
