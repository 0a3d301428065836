// Wait for a service's /health/ready to answer 200: poll every 100 ms,
// give up after the timeout, or at once when the process exits.
import type { ExitInfo } from '../../libs/testing/src/local-servers';

export interface ReadyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Settles when the service process exits; readiness then fails at once. */
  exited: Promise<ExitInfo>;
}

export async function waitForHttpReady(name: string, port: number, opts: ReadyOptions): Promise<void> {
  const url = `http://127.0.0.1:${port}/health/ready`;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let exit: ExitInfo | undefined;
  void opts.exited.then((info) => {
    exit = info;
  });
  let last = 'no answer yet';
  for (;;) {
    if (exit) throw new Error(`${name} exited (${describe(exit)}) before ${url} answered 200; see its [${name}] lines above`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(2_000, Math.max(100, deadline - Date.now()))) });
      if (res.status === 200) return;
      last = `HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = errorText(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`${name} was not ready within ${timeoutMs / 1000} s: ${url} → ${last}`);
    }
    await Promise.race([opts.exited, new Promise((r) => setTimeout(r, intervalMs))]);
  }
}

export function describe(exit: ExitInfo): string {
  return exit.signal ? `killed by ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
