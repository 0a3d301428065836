/**
 * Runs one bench on its own (`node dist/test/bench/<name>.js`): its own nats-server (and
 * redis-server when asked), the bench's lines printed, exit 0 on success and 1 with the
 * error otherwise. `npm run bench` runs the same functions inside the full suite.
 */
import { startNatsServer, startRedisServer } from '../../libs/testing/src/local-servers';

export interface StandaloneServers {
  natsUrl: string;
  redisUrl?: string;
  log: (msg: string) => void;
}

export function runStandalone(name: string, opts: { redis?: boolean }, bench: (s: StandaloneServers) => Promise<{ lines: string[] }>): void {
  void (async () => {
    const nats = await startNatsServer();
    const redis = opts.redis ? await startRedisServer() : undefined;
    try {
      const r = await bench({ natsUrl: nats.url, redisUrl: redis?.url, log: (m) => process.stdout.write(`bench: ${m}\n`) });
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
