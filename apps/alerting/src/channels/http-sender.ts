/**
 * POST JSON with Node's fetch and a per-attempt timeout. Redirects are not followed (a 3xx is
 * a refusal: following one could carry the channel's headers to another host). At most a
 * short snippet of an error response body is read, for the delivery log.
 */
import type { AttemptResult } from './retry-policy';
import { parseRetryAfter } from './retry-policy';

export type SendResult = AttemptResult & { snippet?: string };

export interface HttpPort {
  /** `body` is the exact JSON text (signatures cover these bytes). */
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult>;
}

const SNIPPET_BYTES = 256;

export class FetchHttpSender implements HttpPort {
  constructor(
    private readonly userAgent = 'Switchboard-Alerting/1',
    private readonly now: () => number = Date.now,
  ) {}

  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'user-agent': this.userAgent },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      return { kind: 'error', message: describeFetchError(e, timeoutMs) };
    }
    const ok = res.status >= 200 && res.status < 300;
    const snippet = ok ? undefined : await readSnippet(res);
    if (ok) await res.body?.cancel().catch(() => undefined);
    return { kind: 'response', status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.now()), snippet };
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const code = err?.cause?.code;
  if (code) return `connection failed: ${code}`;
  return `request failed: ${err?.cause?.message ?? err?.message ?? String(e)}`;
}

async function readSnippet(res: Response): Promise<string | undefined> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return undefined;
    const { value } = await reader.read();
    await reader.cancel().catch(() => undefined);
    if (!value) return undefined;
    return new TextDecoder().decode(value.subarray(0, SNIPPET_BYTES)).replace(/\s+/g, ' ').trim();
  } catch {
    return undefined;
  }
}
