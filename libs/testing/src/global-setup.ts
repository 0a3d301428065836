// jest globalSetup for the int and e2e projects: give the run one NATS (with
// JetStream) and one Redis, decided once:
//   1. NATS_URL / REDIS_URL set          → use them              (SB_TEST_SERVERS=external)
//   2. a container runtime answers       → @testcontainers/*     (SB_TEST_SERVERS=containers)
//   3. otherwise                         → local nats-server / redis-server on free ports
//                                          with a temp store dir (SB_TEST_SERVERS=local)
// SB_TEST_RUNTIME=local|containers forces step 2 or 3 (default: auto).
// Jest workers are spawned after this hook, so they inherit the env set here.
// Loaded by jest's transformer without moduleNameMapper: relative imports only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerRuntimeAvailable, startNatsContainer, startRedisContainer, type StartedService } from './containers';
import { getState, HARNESS_ENV_KEYS, setState, type TestServersMode, type TestServersState } from './global-state';
import { forgetTempDir, killAllNow, removeOnExit } from './local-process';
import { startNatsServer, startRedisServer, whichBinary } from './local-servers';

type Need = { nats: boolean; redis: boolean };

export default async function globalSetup(): Promise<void> {
  const existing = getState();
  if (existing) {
    existing.refs += 1;
    return;
  }

  const originalEnv: TestServersState['originalEnv'] = {};
  for (const key of HARNESS_ENV_KEYS) if (process.env[key] !== undefined) originalEnv[key] = process.env[key];

  const need: Need = { nats: !process.env.NATS_URL, redis: !process.env.REDIS_URL };
  const state: TestServersState = { refs: 1, mode: 'external', originalEnv, stops: [] };

  try {
    if (need.nats || need.redis) state.mode = await startServers(need, state);
  } catch (err) {
    await stopAll(state);
    throw err;
  }

  process.env.SB_TEST_SERVERS = state.mode;
  setState(state);
  process.stderr.write(
    `[sb-testing] NATS ${process.env.NATS_URL}, Redis ${process.env.REDIS_URL} (${state.mode})\n`,
  );
}

async function startServers(need: Need, state: TestServersState): Promise<TestServersMode> {
  const preference = (process.env.SB_TEST_RUNTIME ?? 'auto').toLowerCase();
  if (!['auto', 'local', 'containers'].includes(preference)) {
    throw new Error(`SB_TEST_RUNTIME must be auto, local or containers (got "${preference}")`);
  }

  if (preference !== 'local' && (await containerRuntimeAvailable())) {
    try {
      await startWithContainers(need, state);
      return 'containers';
    } catch (err) {
      if (preference === 'containers') throw err;
      await stopAll(state);
      process.stderr.write(`[sb-testing] containers failed to start, using local processes: ${(err as Error).message}\n`);
    }
  } else if (preference === 'containers') {
    throw new Error('SB_TEST_RUNTIME=containers but no container runtime answered (DOCKER_HOST or a docker socket is needed)');
  }

  await startLocal(need, state);
  return 'local';
}

async function startWithContainers(need: Need, state: TestServersState): Promise<void> {
  const [nats, redis] = await Promise.allSettled([
    need.nats ? startNatsContainer() : Promise.resolve(undefined),
    need.redis ? startRedisContainer() : Promise.resolve(undefined),
  ]);
  record(state, 'nats container', nats);
  record(state, 'redis container', redis);
  if (nats.status === 'rejected') throw nats.reason;
  if (redis.status === 'rejected') throw redis.reason;
  if (nats.value) process.env.NATS_URL = nats.value.url;
  if (redis.value) process.env.REDIS_URL = redis.value.url;
}

async function startLocal(need: Need, state: TestServersState): Promise<void> {
  const missing = [need.nats && 'nats-server', need.redis && 'redis-server'].filter(
    (name): name is string => typeof name === 'string' && !whichBinary(name),
  );
  if (missing.length > 0) {
    throw new Error(
      `Integration tests need ${missing.join(' and ')}: no container runtime answered and it is not installed. ` +
        `Install it (Debian: apt-get install ${missing.join(' ')}) or set NATS_URL / REDIS_URL to running servers.`,
    );
  }
  state.tempRoot = mkdtempSync(join(tmpdir(), 'sb-test-'));
  const root = state.tempRoot;
  removeOnExit(root);
  installSignalCleanup(state);
  const [nats, redis] = await Promise.allSettled([
    need.nats ? startNatsServer({ storeDir: join(root, 'nats') }) : Promise.resolve(undefined),
    need.redis ? startRedisServer({ dir: join(root, 'redis') }) : Promise.resolve(undefined),
  ]);
  record(state, 'nats-server', nats);
  record(state, 'redis-server', redis);
  if (nats.status === 'rejected') throw nats.reason;
  if (redis.status === 'rejected') throw redis.reason;
  if (nats.value) process.env.NATS_URL = nats.value.url;
  if (redis.value) process.env.REDIS_URL = redis.value.url;
}

function record(state: TestServersState, name: string, result: PromiseSettledResult<StartedService | { stop(): Promise<void> } | undefined>): void {
  if (result.status === 'fulfilled' && result.value) {
    const started = result.value;
    state.stops.push({ name, stop: () => started.stop() });
  }
}

/** Stop everything recorded in `state` (reverse order) and remove its temp root. Collects errors. */
export async function stopAll(state: TestServersState): Promise<Error[]> {
  const errors: Error[] = [];
  for (const { name, stop } of state.stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      errors.push(new Error(`stopping ${name} failed: ${(err as Error).message}`, { cause: err }));
    }
  }
  state.stops = [];
  if (state.tempRoot) {
    rmSync(state.tempRoot, { recursive: true, force: true });
    forgetTempDir(state.tempRoot);
    state.tempRoot = undefined;
  }
  state.uninstallSignalCleanup?.();
  return errors;
}

/**
 * If jest itself is killed by a signal (CI timeout, kill), 'exit' handlers and
 * globalTeardown do not run: kill the local servers and drop the temp dir, then
 * let the signal take its default course.
 */
function installSignalCleanup(state: TestServersState): void {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];
  const onSignal = (signal: NodeJS.Signals): void => {
    uninstall();
    killAllNow();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const uninstall = (): void => {
    for (const s of signals) process.off(s, onSignal);
  };
  for (const s of signals) process.on(s, onSignal);
  state.uninstallSignalCleanup = uninstall;
}
