// Small network and filesystem probes shared by the test harness and the
// `npm start` launcher. No jest or testcontainers imports.
import { accessSync, constants } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';

const DEFAULT_PORTS: Record<string, number> = { 'nats:': 4222, 'tls:': 4222, 'redis:': 6379, 'rediss:': 6379, 'http:': 80, 'https:': 443 };

/** An unused TCP port on 127.0.0.1, chosen by the OS. */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

export interface HostPort {
  host: string;
  port: number;
}

/** `nats://user:pw@host:4222` → `{ host, port }`, with the scheme's default port. */
export function parseHostPort(url: string): HostPort {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `nats://${url}`;
  const u = new URL(withScheme);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol] ?? 0;
  if (!port) throw new Error(`no port in ${url} and no default for ${u.protocol}`);
  return { host, port };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Connect to `host:port`, optionally write `send`, and resolve with what the
 * server sends back until `until` matches (or the first chunk when no `until`).
 * Rejects on refusal, close or timeout.
 */
export function tcpExchange(
  target: HostPort,
  opts: { send?: string; until?: RegExp; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buf = '';
    let settled = false;
    const finish = (err: Error | null, value = ''): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.setTimeout(opts.timeoutMs ?? 1_000, () => finish(new Error(`timeout talking to ${target.host}:${target.port}`)));
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`connection to ${target.host}:${target.port} closed: ${JSON.stringify(buf.slice(0, 200))}`)));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (!opts.until || opts.until.test(buf)) finish(null, buf);
    });
    socket.connect(target.port, target.host, () => {
      if (opts.send !== undefined) socket.write(opts.send);
    });
  });
}

/** True when something accepts TCP connections at the URL (any server of a comma-separated list). */
export async function isListening(url: string, timeoutMs = 500): Promise<boolean> {
  const targets = url.split(',').map((s) => s.trim()).filter(Boolean);
  const results = await Promise.all(targets.map((t) => tcpConnects(parseHostPort(t), timeoutMs)));
  return results.some(Boolean);
}

function tcpConnects(target: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(target.port, target.host, () => done(true));
  });
}

/** NATS is ready when it sends its `INFO {...}` line (with `"jetstream":true` when required). */
export async function probeNats(target: HostPort, requireJetStream: boolean, timeoutMs = 1_000): Promise<void> {
  const data = await tcpExchange(target, { until: /\r?\n/, timeoutMs });
  const line = data.split(/\r?\n/, 1)[0] ?? '';
  if (!line.startsWith('INFO ')) throw new Error(`unexpected greeting from ${target.host}:${target.port}: ${line.slice(0, 120)}`);
  if (requireJetStream) {
    const info = JSON.parse(line.slice(5)) as { jetstream?: boolean };
    if (!info.jetstream) throw new Error(`NATS at ${target.host}:${target.port} has JetStream disabled`);
  }
}

/** Redis is ready when PING answers +PONG (not -LOADING). */
export async function probeRedis(target: HostPort, timeoutMs = 1_000): Promise<void> {
  const reply = await tcpExchange(target, { send: 'PING\r\n', until: /\r\n/, timeoutMs });
  if (!reply.startsWith('+PONG')) throw new Error(`redis at ${target.host}:${target.port} answered ${JSON.stringify(reply.trim())}`);
}

/** Absolute path of an executable found on PATH, /usr/sbin or /usr/bin; undefined when missing. */
export function whichBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
