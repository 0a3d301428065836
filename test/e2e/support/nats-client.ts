/** What a plain NATS client does with the public contract: JSON body, Authorization header. */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';

export interface NatsReply<T = any> {
  body: T;
  errorCode?: string;
  errorMessage?: string;
  retryAfter?: string;
}

export async function natsRequest<T = any>(nc: NatsConnection, subject: string, body: unknown, opts: { key?: string; headers?: Record<string, string>; raw?: Uint8Array; timeoutMs?: number } = {}): Promise<NatsReply<T>> {
  const h = natsHeaders();
  if (opts.key) h.set('Authorization', `Bearer ${opts.key}`);
  for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
  const data = opts.raw ?? new TextEncoder().encode(JSON.stringify(body));
  const reply = await nc.request(subject, data, { headers: h, timeout: opts.timeoutMs ?? 15_000 });
  const text = new TextDecoder().decode(reply.data);
  return {
    body: (text ? JSON.parse(text) : undefined) as T,
    errorCode: reply.headers?.get('Nats-Service-Error-Code') || undefined,
    errorMessage: reply.headers?.get('Nats-Service-Error') || undefined,
    retryAfter: reply.headers?.get('Retry-After') || undefined,
  };
}
