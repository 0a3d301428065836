/**
 * POST JSON with node:http(s) and a per-attempt timeout, through the SSRF guard: the host is
 * resolved and checked first (webhook-guard.ts), and the connection is made to the checked
 * address only (a `lookup` that answers with it), so DNS cannot change the target in between.
 * Redirects are not followed (a 3xx is a refusal: following one could carry the channel's headers
 * to another host). Of an error response only the first bytes are read, as printable ASCII; the
 * delivery log keeps a shorter piece of them (delivery-attempt.handler.ts), secrets masked.
 */
import type { LookupAddress } from 'node:dns';
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AttemptResult } from './retry-policy';
import { parseRetryAfter } from './retry-policy';
import type { WebhookGuard } from './webhook-guard';

export type SendResult = AttemptResult & { snippet?: string };

export interface HttpPort {
  /** `body` is the exact JSON text (signatures cover these bytes). */
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult>;
}

/** At most this much of an error response is read (printable ASCII only). */
const SNIPPET_READ_CHARS = 256;

export class GuardedHttpSender implements HttpPort {
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(
    private readonly guard: WebhookGuard,
    private readonly userAgent = 'Switchboard-Alerting/1',
    private readonly now: () => number = Date.now,
  ) {}

  async post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<SendResult> {
    const signal = AbortSignal.timeout(timeoutMs);
    let res: IncomingMessage;
    try {
      const target = await abortable(this.guard.resolve(url), signal);
      if (!target.ok) return { kind: 'refused', message: target.reason };
      const u = new URL(url);
      const https = u.protocol === 'https:';
      const options: RequestOptions = {
        method: 'POST',
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': this.userAgent },
        lookup: pinned(target.address, target.family),
        agent: https ? this.agents.https : this.agents.http,
        signal,
      };
      res = await send(https ? httpsRequest : httpRequest, options, body);
    } catch (e) {
      return { kind: 'error', message: describeError(e, timeoutMs) };
    }
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    const snippet = ok ? (res.resume(), undefined) : await readSnippet(res);
    return { kind: 'response', status, retryAfterMs: parseRetryAfter(headerOf(res, 'retry-after'), this.now()), snippet };
  }
}

/** A lookup that answers with the address the guard checked, whatever DNS would say now. */
function pinned(address: string, family: 4 | 6): LookupFunction {
  return (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: LookupAddress[]) => void)(null, [{ address, family }]);
    else cb(null, address, family);
  };
}

function send(request: typeof httpRequest, options: RequestOptions, body: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(options, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function headerOf(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function describeError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const code = err?.code ?? err?.cause?.code;
  if (code) return `connection failed: ${code}`;
  return `request failed: ${err?.cause?.message ?? err?.message ?? String(e)}`;
}

/** The first bytes of the body, as printable ASCII (anything else becomes `?`), then the response is dropped. */
function readSnippet(res: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      res.removeAllListeners('data');
      res.destroy();
      const clean = text.slice(0, SNIPPET_READ_CHARS).replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
      resolve(clean === '' ? undefined : clean);
    };
    res.setEncoding('latin1');
    res.on('data', (chunk: string) => {
      text += chunk;
      if (text.length >= SNIPPET_READ_CHARS) done();
    });
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}
