/** A tiny HTTP client for e2e tests: status, headers and parsed JSON body. */
export interface HttpReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** Create a tenant and a key for it with the given scopes. */
export async function tenantWithKey(base: string, adminKey: string, scopes: string[] = ['tasks:submit', 'tasks:read']): Promise<{ tenantId: string; key: string }> {
  const t = await http(base, 'POST', '/v1/tenants', { key: adminKey, body: { name: `tenant-${Math.random().toString(36).slice(2, 8)}` } });
  if (t.status !== 201) throw new Error(`tenant create failed: ${t.status} ${JSON.stringify(t.body)}`);
  const k = await http(base, 'POST', '/v1/keys', { key: adminKey, body: { tenantId: t.body.id, scopes } });
  if (k.status !== 201) throw new Error(`key create failed: ${k.status} ${JSON.stringify(k.body)}`);
  return { tenantId: t.body.id, key: k.body.key };
}

/** A system-tenant key with operator scopes (`fleet:read`, `alerts:*`: no tenant's key may hold them). */
export async function operatorKey(base: string, adminKey: string, scopes: string[]): Promise<string> {
  const k = await http(base, 'POST', '/v1/keys', { key: adminKey, body: { tenantId: 'system', scopes } });
  if (k.status !== 201) throw new Error(`key create failed: ${k.status} ${JSON.stringify(k.body)}`);
  return k.body.key;
}
