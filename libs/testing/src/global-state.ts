// State shared between jest's globalSetup and globalTeardown (both run in the
// jest parent process, so globalThis is common to them). The int and e2e
// projects both list the same hooks; a reference count makes the servers start
// once per jest run and stop after the last project's teardown.

export type TestServersMode = 'local' | 'containers' | 'external';

/** Env vars the harness owns; teardown restores their values from before setup. */
export const HARNESS_ENV_KEYS = ['NATS_URL', 'REDIS_URL', 'SB_TEST_SERVERS'] as const;

export interface TestServersState {
  refs: number;
  mode: TestServersMode;
  originalEnv: Partial<Record<(typeof HARNESS_ENV_KEYS)[number], string>>;
  /** Stop callbacks for whatever setup started, run in reverse order. */
  stops: Array<{ name: string; stop: () => Promise<void> }>;
  /** Temp root holding local servers' data; removed by teardown. */
  tempRoot?: string;
  /** Removes the SIGTERM/SIGHUP clean-up handlers installed for local servers. */
  uninstallSignalCleanup?: () => void;
}

const KEY = '__SB_TEST_SERVERS__';

type WithState = typeof globalThis & { [KEY]?: TestServersState };

export function getState(): TestServersState | undefined {
  return (globalThis as WithState)[KEY];
}

export function setState(state: TestServersState | undefined): void {
  if (state) (globalThis as WithState)[KEY] = state;
  else delete (globalThis as WithState)[KEY];
}
