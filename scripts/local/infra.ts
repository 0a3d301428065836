// NATS and Redis for `npm start`: use what listens at NATS_URL / REDIS_URL;
// otherwise start nats-server / redis-server with data under .data/; if a
// binary is missing, fail with ONE line saying how to get it.
import { join } from 'node:path';
import {
  isListening,
  isLoopbackHost,
  parseHostPort,
  probeNats,
  ServerHandle,
  startNatsServer,
  startRedisServer,
  whichBinary,
} from '../../libs/testing/src/local-servers';
import type { Output } from './output';

/** An error whose message is the whole story: print it as one line and exit 1. */
export class OneLineError extends Error {}

export interface Infra {
  natsUrl: string;
  redisUrl: string;
  /** Servers this launcher started (to stop on shutdown). */
  started: ServerHandle[];
  /** The launcher started nats-server itself, in operator mode (NATS auth on). */
  natsSecured: boolean;
}

interface Want {
  kind: 'nats' | 'redis';
  env: 'NATS_URL' | 'REDIS_URL';
  url: string;
  binary: 'nats-server' | 'redis-server';
}

/** `natsConf`: the operator-mode configuration a nats-server this launcher starts runs with. */
export async function ensureInfra(natsUrl: string, redisUrl: string, dataDir: string, out: Output, natsConf?: string): Promise<Infra> {
  const wants: Want[] = [
    { kind: 'nats', env: 'NATS_URL', url: natsUrl, binary: 'nats-server' },
    { kind: 'redis', env: 'REDIS_URL', url: redisUrl, binary: 'redis-server' },
  ];
  const listening = await Promise.all(wants.map((w) => isListening(w.url)));
  const toStart = wants.filter((_, i) => !listening[i]);

  const remote = toStart.filter((w) => w.url.includes(',') || !isLoopbackHost(parseHostPort(w.url).host));
  if (remote.length > 0) {
    throw new OneLineError(
      `nothing listens at ${remote.map((w) => `${w.env}=${w.url}`).join(' and ')}; start it there or point ${remote.map((w) => w.env).join('/')} at a running server`,
    );
  }
  const missing = toStart.filter((w) => !whichBinary(w.binary));
  if (missing.length > 0) {
    const names = missing.map((w) => w.binary);
    const where = missing.map((w) => w.url).join(' and ');
    throw new OneLineError(
      `${names.join(' and ')} not found and nothing listens at ${where}: install with \`sudo apt-get install ${names.join(' ')}\` ` +
        `(or brew install ${missing.map((w) => (w.kind === 'nats' ? 'nats-server' : 'redis')).join(' ')}), or set ${missing.map((w) => w.env).join('/')} to a running server`,
    );
  }

  if (listening[0]) {
    try {
      await probeNats(parseHostPort(natsUrl.split(',')[0] ?? natsUrl), true, 2_000);
    } catch (err) {
      throw new OneLineError(`NATS at ${natsUrl} is not usable: ${(err as Error).message} (Switchboard needs JetStream: nats-server -js)`);
    }
  }
  for (const w of wants.filter((_, i) => listening[i])) out.info(`using the ${w.kind} server already listening at ${w.url}`);

  const started: ServerHandle[] = [];
  try {
    await Promise.all(
      toStart.map(async (w) => {
        const port = parseHostPort(w.url).port;
        const dir = join(dataDir, w.kind);
        out.info(`starting ${w.binary} on port ${port} (data in ${dir})`);
        const onOutput = (line: string): void => out.line(w.kind, line);
        const common = { port, detached: true, onOutput, stopGraceMs: 10_000, readyTimeoutMs: 20_000 };
        const handle =
          w.kind === 'nats'
            ? await startNatsServer({ ...common, storeDir: dir, jetstream: true, extraArgs: natsConf ? ['-c', natsConf] : [] })
            : await startRedisServer({ ...common, dir });
        started.push(handle);
      }),
    );
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  const natsSecured = Boolean(natsConf) && started.some((s) => s.kind === 'nats');
  if (!natsSecured) out.warn(`NATS at ${natsUrl} was already running: services connect to it as it is configured (npm start secures only a nats-server it starts itself)`);
  return { natsUrl, redisUrl, started, natsSecured };
}
