/**
 * Runs one bench on its own (`node dist/test/bench/<name>.js`): its own nats-server in operator
 * mode (bench-nats.ts; and a redis-server when asked), the bench's lines printed, exit 0 on
 * success and 1 with the error otherwise. `npm run bench` runs the same functions inside the full suite.
 */
import { startRedisServer } from '../../libs/testing/src/local-servers';
import { type BenchNats, startBenchNats } from './bench-nats';

export interface StandaloneServers {
  nats: BenchNats;
  redisUrl?: string;
  log: (msg: string) => void;
}

export function runStandalone(name: string, opts: { redis?: boolean }, bench: (s: StandaloneServers) => Promise<{ lines: string[] }>): void {
  void (async () => {
    const nats = await startBenchNats();
    const redis = opts.redis ? await startRedisServer() : undefined;
    try {
      const r = await bench({ nats, redisUrl: redis?.url, log: (m) => process.stdout.write(`bench: ${m}\n`) });
      process.stdout.write(`\n${r.lines.join('\n')}\n`);
    } finally {
      await redis?.destroy();
      await nats.destroy();
    }
  })().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${name} bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
