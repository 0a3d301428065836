// The testcontainers path of the harness. testcontainers is imported lazily,
// only once a container runtime endpoint plausibly exists, and the runtime
// check is raced against a short timeout so a missing engine never hangs a run.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface StartedService {
  url: string;
  stop: () => Promise<void>;
}

/** Cheap filesystem/env check: is there anything a Docker-compatible client could talk to? */
export function containerEndpointHint(): string | undefined {
  if (process.env.DOCKER_HOST) return `DOCKER_HOST=${process.env.DOCKER_HOST}`;
  const props = join(homedir(), '.testcontainers.properties');
  if (existsSync(props) && /^\s*docker\.host\s*=/m.test(readFileSync(props, 'utf8'))) return props;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const sockets = [
    '/var/run/docker.sock',
    process.env.XDG_RUNTIME_DIR && join(process.env.XDG_RUNTIME_DIR, 'docker.sock'),
    uid !== undefined && `/run/user/${uid}/docker.sock`,
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.docker', 'desktop', 'docker.sock'),
    join(homedir(), '.colima', 'default', 'docker.sock'),
    join(homedir(), '.rd', 'docker.sock'),
  ];
  return sockets.find((s): s is string => typeof s === 'string' && existsSync(s));
}

/** True when a container runtime answers within `timeoutMs`. Never throws, never hangs. */
export async function containerRuntimeAvailable(timeoutMs = 3_000): Promise<boolean> {
  if (!containerEndpointHint()) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    // Promise.race handles a late rejection of the losing promise, so no unhandled rejection.
    return await Promise.race([getContainerRuntimeClient().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function startNatsContainer(image = process.env.SB_TEST_NATS_IMAGE ?? 'nats:2.9-alpine'): Promise<StartedService> {
  const { NatsContainer } = await import('@testcontainers/nats');
  const container = await new NatsContainer(image).withJetStream().start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startRedisContainer(image = process.env.SB_TEST_REDIS_IMAGE ?? 'redis:7-alpine'): Promise<StartedService> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer(image).start();
  return {
    url: container.getConnectionUrl(),
    stop: async () => {
      await container.stop();
    },
  };
}
