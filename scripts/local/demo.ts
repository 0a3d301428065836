// The quick-start proof: submit an echo task through the gateway with
// `wait: true` and show the finished task record.
import type { Output } from './output';

export const DEMO_BODY = { capability: 'echo', input: { hello: 'world' }, wait: true } as const;

export function exampleCommand(gatewayPort: number): string {
  return (
    `curl -s -X POST localhost:${gatewayPort}/v1/tasks -H "Authorization: Bearer $KEY" ` +
    `-H 'content-type: application/json' -d '${JSON.stringify(DEMO_BODY)}'`
  );
}

/** True when the gateway answered 2xx with a task record whose status is `succeeded`. */
export async function runDemo(gatewayPort: number, adminKey: string, out: Output, timeoutMs = 45_000): Promise<boolean> {
  const url = `http://127.0.0.1:${gatewayPort}/v1/tasks`;
  out.info(`demo: POST ${url} ${JSON.stringify(DEMO_BODY)}`);
  let status = 0;
  let text = '';
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(DEMO_BODY),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
    out.error(`demo FAILED: no answer from the gateway (${cause ?? (err as Error).message})`);
    return false;
  }

  let record: unknown = text;
  try {
    record = JSON.parse(text);
  } catch {
    // not JSON: shown as text below
  }
  out.info(`demo: HTTP ${status}`);
  out.info(typeof record === 'string' ? record : JSON.stringify(record, null, 2));

  const taskStatus = typeof record === 'object' && record !== null ? (record as { status?: unknown }).status : undefined;
  if (status >= 200 && status < 300 && taskStatus === 'succeeded') {
    out.info(out.bold('demo OK: the echo task succeeded'));
    return true;
  }
  out.error(`demo FAILED: expected a 2xx reply with status "succeeded", got HTTP ${status} with status ${JSON.stringify(taskStatus)}`);
  return false;
}

/** How a tenant's NATS client gets in: credentials from the gateway, then the `nats` CLI with them. */
export function natsExample(gatewayPort: number, natsUrl: string): string[] {
  return [
    `curl -s -X POST localhost:${gatewayPort}/v1/nats/credentials -H "Authorization: Bearer $KEY" -D headers.txt -o tenant.creds   # Sb-Inbox-Prefix is in headers.txt`,
    `nats --server ${natsUrl} --creds tenant.creds --inbox-prefix "$(sed -n 's/^sb-inbox-prefix: //Ip' headers.txt | tr -d '\\r')" request sb.v1.tasks.submit '${JSON.stringify(DEMO_BODY)}' -H "Authorization: Bearer $KEY"`,
  ];
}

/**
 * The same echo task over NATS, as a tenant's client: credentials from POST /v1/nats/credentials
 * (answered 503 when the server runs without NATS auth: then no credentials), its private inbox.
 */
export async function runNatsDemo(gatewayPort: number, natsUrl: string, adminKey: string, prefix: string, out: Output, timeoutMs = 45_000): Promise<boolean> {
  const { connect } = await import('@nats-io/transport-node');
  const { credsAuthenticator, headers } = await import('@nats-io/nats-core');
  try {
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/nats/credentials`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` }, signal: AbortSignal.timeout(timeoutMs) });
    const creds = res.status === 201 ? await res.text() : undefined;
    if (!creds && res.status !== 503) {
      out.error(`demo over NATS FAILED: POST /v1/nats/credentials answered ${res.status}: ${await res.text()}`);
      return false;
    }
    const inboxPrefix = res.headers.get('sb-inbox-prefix') ?? undefined;
    const nc = await connect({ servers: natsUrl, ...(creds ? { authenticator: credsAuthenticator(new TextEncoder().encode(creds)), inboxPrefix } : {}) });
    try {
      const h = headers();
      h.set('Authorization', `Bearer ${adminKey}`);
      out.info(`demo: NATS request ${prefix}.v1.tasks.submit ${JSON.stringify(DEMO_BODY)}${creds ? ` (with credentials, inbox ${inboxPrefix})` : ''}`);
      const reply = await nc.request(`${prefix}.v1.tasks.submit`, JSON.stringify(DEMO_BODY), { headers: h, timeout: timeoutMs });
      const record = reply.json<{ status?: string }>();
      if (record.status === 'succeeded') {
        out.info(out.bold('demo OK over NATS: the echo task succeeded'));
        return true;
      }
      out.error(`demo over NATS FAILED: ${reply.string()}`);
      return false;
    } finally {
      await nc.close();
    }
  } catch (err) {
    out.error(`demo over NATS FAILED: ${(err as Error).message}`);
    return false;
  }
}
