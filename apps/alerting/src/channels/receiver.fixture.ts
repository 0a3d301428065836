/** Real local HTTP receivers for the channel int tests (node:http on port 0). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  raw: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once at least `count` requests arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** `respond` picks the status (and body) for each request. */
export async function startReceiver(respond: (r: Received) => { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* keep text */
      }
      const r: Received = { at: performance.now(), path: req.url ?? '', headers: req.headers, body, raw };
      received.push(r);
      const out = respond(r);
      for (const w of waiters) w();
      setTimeout(() => {
        res.writeHead(out.status, { 'content-type': 'text/plain', ...out.headers });
        res.end(out.body ?? '');
      }, out.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          cleanup();
          resolve(received.slice());
        };
        const timer = setTimeout(() => (cleanup(), reject(new Error(`receiver got ${received.length} of ${count} requests within ${timeoutMs} ms`))), timeoutMs);
        const cleanup = () => (clearTimeout(timer), waiters.delete(check));
        waiters.add(check);
        check();
      }),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A URL on which nothing listens (connection refused). */
export async function refusedUrl(): Promise<string> {
  const r = await startReceiver(() => ({ status: 200 }));
  await r.close();
  return r.url;
}
