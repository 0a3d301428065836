/** Small helpers with no protocol in them. */
import type { Logger } from './agent';

/** Exponential backoff with full jitter: attempt 1 waits up to `baseMs`, doubling to `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger that adds `fields` to every line. */
export function childLogger(parent: Logger, fields: Record<string, unknown>): Logger {
  const merge = (f?: Record<string, unknown>) => (f ? { ...fields, ...f } : fields);
  return {
    info: (m, f) => parent.info(m, merge(f)),
    warn: (m, f) => parent.warn(m, merge(f)),
    error: (m, f) => parent.error(m, merge(f)),
  };
}

export const consoleLogger: Logger = {
  info: (m, f) => console.info(`[agent-sdk] ${m}${f ? ` ${safeJson(f)}` : ''}`),
  warn: (m, f) => console.warn(`[agent-sdk] ${m}${f ? ` ${safeJson(f)}` : ''}`),
  error: (m, f) => console.error(`[agent-sdk] ${m}${f ? ` ${safeJson(f)}` : ''}`),
};

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Error ? { name: x.name, message: x.message } : typeof x === 'bigint' ? String(x) : x));
  } catch {
    return String(v);
  }
}

/** A printable form of an error, for log fields. */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
