/** The published gateway and Prometheus, as a client outside the containers reaches them. */
export interface JsonReply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export async function call(base: string, method: string, path: string, opts: { key?: string; body?: unknown; timeoutMs?: number } = {}): Promise<JsonReply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. a .creds file): the text as is
  }
  return { status: res.status, body, headers: res.headers };
}

/** A tenant and an API key of it that may submit and read tasks (admin calls, as in the README). */
export async function tenantWithKey(gateway: string, adminKey: string, name: string): Promise<{ tenantId: string; key: string }> {
  const tenant = await call(gateway, 'POST', '/v1/tenants', { key: adminKey, body: { name } });
  if (tenant.status !== 201) throw new Error(`POST /v1/tenants answered ${tenant.status}: ${JSON.stringify(tenant.body)}`);
  const key = await call(gateway, 'POST', '/v1/keys', { key: adminKey, body: { tenantId: tenant.body.id, scopes: ['tasks:submit', 'tasks:read'] } });
  if (key.status !== 201) throw new Error(`POST /v1/keys answered ${key.status}: ${JSON.stringify(key.body)}`);
  return { tenantId: tenant.body.id, key: key.body.key };
}

/** Prometheus' HTTP API: the `data` of a successful answer. */
export async function prom<T>(base: string, path: string): Promise<T> {
  const r = await call(base, 'GET', path);
  if (r.status !== 200 || r.body?.status !== 'success') throw new Error(`Prometheus ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.data as T;
}
