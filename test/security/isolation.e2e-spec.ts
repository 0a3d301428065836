/**
 * Zero trust on the bus, tested from outside: plain NATS clients with each role's credentials
 * (a tenant's, an agent's, an ops subscriber's, a service's, none at all) against a fleet whose
 * nats-server runs in operator mode as deployed. Every refusal the design promises is asserted
 * as the server's permission violation (or no connection at all), next to a positive control
 * that shows the same client can do what it should.
 */
import { credsAuthenticator, type NatsConnection, PermissionViolationError } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names, type Names, type PlatformService } from '@sb/contracts';
import { serviceCreds } from '@sb/messaging';
import { collectMessages, eventually } from '@sb/testing';
import { type Fleet, startFleet } from '../e2e/support/fleet';
import { http } from '../e2e/support/http';
import { natsRequest } from '../e2e/support/nats-client';
import { keyFor, tenantOnPlan } from '../e2e/support/tenancy';

jest.setTimeout(60_000);

const enc = new TextEncoder();

interface Client {
  nc: NatsConnection;
  /** Every permission violation the server reported on this connection. */
  violations: PermissionViolationError[];
  statuses: string[];
}

async function client(fleet: Fleet, creds: string | undefined, inboxPrefix?: string): Promise<Client> {
  const nc = await connect({
    servers: fleet.env.NATS_URL,
    ...(creds ? { authenticator: credsAuthenticator(enc.encode(creds)) } : {}),
    ...(inboxPrefix ? { inboxPrefix } : {}),
    maxReconnectAttempts: 0,
  });
  const c: Client = { nc, violations: [], statuses: [] };
  void (async () => {
    for await (const s of nc.status()) {
      c.statuses.push(s.type === 'error' ? `error: ${s.error.message}` : s.type);
      if (s.type === 'error' && s.error instanceof PermissionViolationError) c.violations.push(s.error);
    }
  })();
  return c;
}

/** The server answers in order: a violation caused by what we sent arrives before the PONG of the flush after it; one turn lets the status loop record it. */
async function serverVerdict(c: Client): Promise<void> {
  await c.nc.flush();
  await new Promise<void>((r) => setImmediate(r));
}

/** True when the server refused this publish with a permission violation. */
async function publishRefused(c: Client, subject: string, body = '{}'): Promise<boolean> {
  c.nc.publish(subject, enc.encode(body));
  await serverVerdict(c);
  return c.violations.some((v) => v.operation === 'publish' && v.subject === subject);
}

/** True when the server refused this subscription with a permission violation. */
async function subscribeRefused(c: Client, subject: string, queue?: string): Promise<boolean> {
  let refused = false;
  const sub = c.nc.subscribe(subject, {
    ...(queue ? { queue } : {}),
    callback: (err) => {
      if (err instanceof PermissionViolationError && err.subject === subject) refused = true;
    },
  });
  await serverVerdict(c);
  refused ||= c.violations.some((v) => v.operation === 'subscription' && v.subject === subject);
  if (!sub.isClosed()) sub.unsubscribe();
  return refused;
}

describe('zero trust on the bus: what each NATS credential may reach (operator mode, as deployed)', () => {
  let fleet: Fleet;
  let n: Names;
  let tenantA: string;
  let tenantB: string;
  let keyA: { id: string; key: string };
  let keyB: { id: string; key: string };
  let a: Client;
  let credsA: { creds: string; inboxPrefix: string };
  const opened: Client[] = [];
  const open = async (creds: string | undefined, inboxPrefix?: string) => {
    const c = await client(fleet, creds, inboxPrefix);
    opened.push(c);
    return c;
  };
  const serviceClient = async (service: PlatformService) => open((await serviceCreds(fleet.secureNats!.security, fleet.prefix, service)).creds);

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    n = names(fleet.prefix);
    tenantA = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    tenantB = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro');
    keyA = await keyFor(fleet.httpUrl, fleet.adminKey, tenantA);
    keyB = await keyFor(fleet.httpUrl, fleet.adminKey, tenantB);
    credsA = await fleet.natsCreds(keyA.key);
    a = await open(credsA.creds, credsA.inboxPrefix);
  });
  afterAll(async () => {
    for (const c of opened) await c.nc.close().catch(() => undefined);
    await fleet?.stop();
  });

  describe('no credentials', () => {
    it('cannot connect at all', async () => {
      await expect(connect({ servers: fleet.env.NATS_URL, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation/i);
    });
  });

  describe('a tenant', () => {
    it('submits a task and gets its result over NATS with its credentials and private inbox (the control)', async () => {
      const r = await natsRequest(a.nc, n.tasks.submit, { capability: 'echo', input: { hello: 'tenant' }, wait: true }, { key: keyA.key });
      expect(r.errorCode).toBeUndefined();
      expect(r.body.status).toBe('succeeded');
      expect(r.body.result).toEqual({ echo: { hello: 'tenant' } });
    });

    it("hears its own tenant's task events", async () => {
      const events = collectMessages(a.nc, n.tasks.eventsOfTenant(tenantA));
      await a.nc.flush();
      const r = await natsRequest(a.nc, n.tasks.submit, { capability: 'echo', input: 1, wait: true }, { key: keyA.key });
      await eventually(() => events.messages.some((m) => m.subject === n.tasks.event(tenantA, r.body.taskId, 'succeeded')));
      events.stop();
    });

    it.each([
      ['everything', () => '>'],
      ['the shared inbox', () => '_INBOX.>'],
      ["another tenant's events", () => n.tasks.eventsOfTenant(tenantB)],
      ['every task event', () => n.tasks.eventsAll],
      ['a KV bucket', () => `$KV.${n.buckets.keys}_signing.>`],
      ['the queue', () => n.queue.all],
      ["auth's requests, in its queue group", () => n.internal.authorize],
    ])('may not subscribe to %s', async (_what, subject) => {
      expect(await subscribeRefused(a, subject(), subject() === n.internal.authorize ? n.queueGroup('auth') : undefined)).toBe(true);
    });

    it.each([
      ['the JetStream API', () => '$JS.API.INFO'],
      ['a KV read (direct get of the signing keys)', () => `$JS.API.DIRECT.GET.KV_${n.buckets.keys}_signing.$KV.${n.buckets.keys}_signing.ring`],
      ['stream deletion', () => `$JS.API.STREAM.DELETE.${n.queue.stream}`],
      ['the queue', () => n.queue.subject('echo', 'normal')],
      ['an internal request (key creation)', () => n.internal.keysCreate],
      ['jwks.changed', () => n.internal.jwksChanged],
      ["an agent's down event", () => n.agents.down('some-agent')],
      ['the agent protocol', () => n.agents.work('some-agent', 'take')],
    ])('may not publish to %s', async (_what, subject) => {
      expect(await publishRefused(a, subject())).toBe(true);
    });

    it("is refused when it presents another tenant's API key on its own connection", async () => {
      const r = await natsRequest(a.nc, n.tasks.submit, { capability: 'echo', input: 1 }, { key: keyB.key });
      expect(r.errorCode).toBe('403');
      expect(r.body.error.code).toBe('AUTH.FORBIDDEN');
    });

    it('cannot forge the request info the server stamps on its requests', async () => {
      const forged = JSON.stringify({ acc: 'A'.padEnd(56, 'B') });
      const r = await natsRequest(a.nc, n.tasks.submit, { capability: 'echo', input: 1 }, { key: keyB.key, headers: { 'Nats-Request-Info': forged } });
      expect(r.errorCode).toBe('403');
      expect(r.body.error.code).toBe('AUTH.FORBIDDEN');
    });

    it('with a read-only key may read but not submit', async () => {
      const readOnly = await keyFor(fleet.httpUrl, fleet.adminKey, tenantA, ['tasks:read']);
      const c = await fleet.natsCreds(readOnly.key);
      const ro = await open(c.creds, c.inboxPrefix);
      expect(await publishRefused(ro, n.tasks.submit)).toBe(true);
      const got = await natsRequest(ro.nc, n.tasks.list, {}, { key: readOnly.key });
      expect(got.errorCode).toBeUndefined();
    });
  });

  describe('an agent bound to its id', () => {
    let agent: Client;
    beforeAll(async () => {
      const c = await fleet.natsCreds(fleet.adminKey, { role: 'agent', agentId: 'iso-agent' });
      agent = await open(c.creds, c.inboxPrefix);
    });

    it('speaks the agent protocol as itself (the control)', async () => {
      expect(await publishRefused(agent, n.agents.heartbeat('iso-agent'))).toBe(false);
    });

    it.each([
      ['a heartbeat of another id', () => n.agents.heartbeat('other-agent')],
      ['a take as another id', () => n.agents.work('other-agent', 'take')],
      ['a completion as another id', () => n.agents.work('other-agent', 'complete', 'somegateway')],
      ['its own down event', () => n.agents.down('iso-agent')],
      ['the JetStream API', () => '$JS.API.INFO'],
      ['the task submit subject', () => n.tasks.submit],
    ])('may not publish %s', async (_what, subject) => {
      expect(await publishRefused(agent, subject())).toBe(true);
    });

    it.each([
      ["another agent's abort notices", () => n.agents.work('other-agent', 'abort')],
      ['task events', () => n.tasks.eventsAll],
      ['the shared inbox', () => '_INBOX.>'],
    ])('may not subscribe to %s', async (_what, subject) => {
      expect(await subscribeRefused(agent, subject())).toBe(true);
    });

    it('an agent credential needs a platform admin key', async () => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/nats/credentials', { key: keyA.key, body: { role: 'agent' } });
      expect(r.status).toBe(403);
    });
  });

  describe('an ops subscriber', () => {
    let ops: Client;
    beforeAll(async () => {
      const c = await fleet.natsCreds(fleet.adminKey, { role: 'subscriber' });
      ops = await open(c.creds, c.inboxPrefix);
    });

    it("hears agents coming up (the control)", async () => {
      const ups = collectMessages(ops.nc, n.agents.livenessOf('up'));
      await ops.nc.flush();
      await fleet.startWorker({ WORKER_ID: 'iso-ops-worker' });
      await eventually(() => ups.messages.some((m) => m.subject === n.agents.up('iso-ops-worker')));
      ups.stop();
    });

    it.each([
      ['an alert', () => n.alerts.event('critical', 'firing')],
      ['a task submit', () => n.tasks.submit],
      ['an agent event', () => n.agents.up('x')],
    ])('may not publish %s', async (_what, subject) => {
      expect(await publishRefused(ops, subject())).toBe(true);
    });

    it('may not subscribe to task events', async () => {
      expect(await subscribeRefused(ops, n.tasks.eventsAll)).toBe(true);
    });
  });

  describe('services, each with the least it needs', () => {
    it("the gateway's user may not join auth's queue group nor publish jwks.changed", async () => {
      const gw = await serviceClient('gateway');
      expect(await subscribeRefused(gw, n.internal.authorize, n.queueGroup('auth'))).toBe(true);
      expect(await publishRefused(gw, n.internal.jwksChanged)).toBe(true);
    });

    it("only auth's user can read the signing keys", async () => {
      const bucket = `KV_${n.buckets.keys}_signing`;
      for (const service of ['gateway', 'tenancy', 'metrics-collector', 'alerting', 'recovery'] as const) {
        const c = await serviceClient(service);
        expect(await publishRefused(c, `$JS.API.STREAM.INFO.${bucket}`)).toBe(true);
        expect(await subscribeRefused(c, `$KV.${n.buckets.keys}_signing.>`)).toBe(true);
      }
      const auth = await serviceClient('auth');
      const info = await auth.nc.request(`$JS.API.STREAM.INFO.${bucket}`, undefined, { timeout: 5_000 });
      expect(info.json<{ config?: { name?: string } }>().config?.name).toBe(bucket);
    });

    it("the collector's user may not answer task submits", async () => {
      const c = await serviceClient('metrics-collector');
      expect(await subscribeRefused(c, n.tasks.submit, n.queueGroup('gateway'))).toBe(true);
    });
  });

  describe('the credentials route', () => {
    it('answers a .creds file with its inbox prefix, not cached, expiring no later than asked', async () => {
      const before = Date.now();
      const r = await fetch(`${fleet.httpUrl}/v1/nats/credentials`, { method: 'POST', headers: { authorization: `Bearer ${keyA.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ ttlSeconds: 120 }) });
      expect(r.status).toBe(201);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const text = await r.text();
      expect(text).toMatch(/-----BEGIN NATS USER JWT-----[\s\S]+-----BEGIN USER NKEY SEED-----/);
      const exp = Date.parse(r.headers.get('sb-nats-expires-at')!);
      expect(exp).toBeGreaterThan(before + 100_000);
      expect(exp).toBeLessThanOrEqual(Date.now() + 120_000);
      expect(r.headers.get('sb-inbox-prefix')).toMatch(/^_INBOX_U[A-Z2-7]{55}$/);
    });

    it.each([
      ['a null body', 'null'],
      ['an unknown role', JSON.stringify({ role: 'root' })],
      ['an agent id on a tenant credential', JSON.stringify({ agentId: 'a1' })],
      ['an unknown field', JSON.stringify({ admin: true })],
      ['a ttl over 30 days', JSON.stringify({ ttlSeconds: 40 * 86_400 })],
    ])('refuses %s with a 400 in the contract shape', async (_what, body) => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/nats/credentials', { key: keyA.key, rawBody: body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('REQUEST.INVALID');
    });

    it('refuses a tenant credential to a key without task permissions, and any credential without a key', async () => {
      const fleetReader = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['fleet:read'] } });
      expect(fleetReader.status).toBe(201);
      const refused = await http(fleet.httpUrl, 'POST', '/v1/nats/credentials', { key: fleetReader.body.key, body: {} });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('AUTH.FORBIDDEN');
      expect((await http(fleet.httpUrl, 'POST', '/v1/nats/credentials', { body: {} })).status).toBe(401);
    });
  });

  describe('revocation', () => {
    it("revoking a platform admin key drops the agent it minted credentials for", async () => {
      const admin = await http(fleet.httpUrl, 'POST', '/v1/keys', { key: fleet.adminKey, body: { tenantId: 'system', scopes: ['admin'] } });
      expect(admin.status).toBe(201);
      const c = await fleet.natsCreds(admin.body.key, { role: 'agent', agentId: 'revoked-agent' });
      const agent = await open(c.creds, c.inboxPrefix);
      expect(await publishRefused(agent, n.agents.heartbeat('revoked-agent'))).toBe(false);
      expect((await http(fleet.httpUrl, 'DELETE', `/v1/keys/${admin.body.id}`, { key: fleet.adminKey })).status).toBe(200);
      await eventually(() => agent.nc.isClosed() || agent.statuses.some((s) => /revoked/i.test(s)), { timeoutMs: 10_000 });
      await expect(connect({ servers: fleet.env.NATS_URL, authenticator: credsAuthenticator(enc.encode(c.creds)), maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation|revoked/i);
    });

    it("revoking the API key drops its NATS connections on the server and refuses them after", async () => {
      const key = await keyFor(fleet.httpUrl, fleet.adminKey, tenantA);
      const c = await fleet.natsCreds(key.key);
      const victim = await open(c.creds, c.inboxPrefix);
      const ok = await natsRequest(victim.nc, n.tasks.get, { taskId: 'nope' }, { key: key.key });
      expect(ok.body.error.code).toBe('RESOURCE.NOT_FOUND');
      const started = performance.now();
      const revoked = await http(fleet.httpUrl, 'DELETE', `/v1/keys/${key.id}`, { key: fleet.adminKey });
      expect(revoked.status).toBe(200);
      await eventually(() => victim.nc.isClosed() || victim.statuses.some((s) => /revoked/i.test(s)), { timeoutMs: 10_000 });
      const tookMs = performance.now() - started;
      process.stderr.write(`[isolation] NATS credentials revoked ${tookMs.toFixed(0)} ms after DELETE /v1/keys/:id was sent\n`);
      await expect(connect({ servers: fleet.env.NATS_URL, authenticator: credsAuthenticator(enc.encode(c.creds)), maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization Violation|revoked/i);
    });
  });
});
