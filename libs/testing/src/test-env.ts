// What the jest globalSetup decided, read from the env it exported.
import type { TestServersMode } from './global-state';

export interface TestEnv {
  natsUrl: string;
  redisUrl: string;
  /** How the servers were provided: local processes, containers or external URLs. */
  mode: TestServersMode;
}

export function testEnv(): TestEnv {
  const { NATS_URL: natsUrl, REDIS_URL: redisUrl, SB_TEST_SERVERS: mode } = process.env;
  if (!mode || !natsUrl || !redisUrl) {
    throw new Error(
      'testEnv(): the test harness did not run (SB_TEST_SERVERS/NATS_URL/REDIS_URL unset). ' +
        'Only *.int-spec.ts files and test/e2e/**/*.e2e-spec.ts run with libs/testing/src/global-setup.ts; ' +
        'run them with `npx jest --selectProjects int` (or e2e).',
    );
  }
  if (mode !== 'local' && mode !== 'containers' && mode !== 'external') {
    throw new Error(`testEnv(): unexpected SB_TEST_SERVERS="${mode}"`);
  }
  return { natsUrl, redisUrl, mode };
}
