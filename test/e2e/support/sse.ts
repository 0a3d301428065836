/** A Server-Sent Events client for e2e tests: parses frames and resolves on the one awaited. */
import { request, type IncomingMessage } from 'node:http';

export interface SseFrame {
  event: string;
  id?: string;
  data: any;
}

export interface SseStream {
  status: number;
  headers: IncomingMessage['headers'];
  frames: SseFrame[];
  /** Resolves with the first frame (already received or arriving) that matches. */
  next(match: (f: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  close(): void;
}

export function openSse(base: string, path: string, key?: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { headers: key ? { authorization: `Bearer ${key}`, accept: 'text/event-stream' } : { accept: 'text/event-stream' } }, (res) => {
      const frames: SseFrame[] = [];
      const waiters: Array<{ match: (f: SseFrame) => boolean; resolve: (f: SseFrame) => void }> = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: SseFrame = { event: 'message', data: undefined };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue; // comments, retry
          const text = data.join('\n');
          try {
            f.data = JSON.parse(text);
          } catch {
            f.data = text;
          }
          frames.push(f);
          for (const w of [...waiters]) {
            if (w.match(f)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(f);
            }
          }
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        next(match, timeoutMs = 10_000) {
          const seen = frames.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((res2, rej2) => {
            const timer = setTimeout(() => rej2(new Error(`no matching SSE frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`)), timeoutMs);
            waiters.push({ match, resolve: (f) => (clearTimeout(timer), res2(f)) });
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads a non-stream reply (an error before the stream opened). */
export async function readBody(base: string, path: string, key?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: res.status, body: await res.json() };
}
