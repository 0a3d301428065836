// jest globalTeardown for the int and e2e projects: stops what global-setup
// started (after the last project that used it), removes temp dirs and
// restores NATS_URL / REDIS_URL / SB_TEST_SERVERS (matters in watch mode,
// where setup runs again in the same process).
import { getState, HARNESS_ENV_KEYS, setState } from './global-state';
import { stopAll } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state = getState();
  if (!state) return;
  state.refs -= 1;
  if (state.refs > 0) return;
  setState(undefined);

  const errors = await stopAll(state);
  for (const key of HARNESS_ENV_KEYS) {
    const original = state.originalEnv[key];
    if (original === undefined) delete process.env[key];
    else process.env[key] = original;
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `[sb-testing] teardown: ${errors.map((e) => e.message).join('; ')}`);
  }
}
