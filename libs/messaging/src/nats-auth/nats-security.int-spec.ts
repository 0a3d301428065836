/**
 * The accounts and permissions of nats-security.ts on a real nats-server in operator mode,
 * without any service: what the platform exports reaches each account as declared, and no further.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { agentPermissions, inboxPrefixOf, names, subscriberPermissions, tenantPermissions } from '@sb/contracts';
import { collectMessages, eventually, type SecureNats, startSecureNatsServer } from '@sb/testing';
import { createUser } from '@nats-io/nkeys';
import { authSecretsOf, mintUser, newAccountPublicKey, platformAdminCreds, systemUserCreds, tenantAccountJwt } from './index';

const enc = new TextEncoder();
const n = names('sb');

describe('NATS accounts in operator mode (nats-server, no services)', () => {
  let secure: SecureNats;
  const conns: NatsConnection[] = [];
  const as = async (creds: string, inboxPrefix?: string) => {
    const nc = await connect({ servers: secure.server.url, authenticator: credsAuthenticator(enc.encode(creds)), ...(inboxPrefix ? { inboxPrefix } : {}) });
    conns.push(nc);
    return nc;
  };
  let platform: NatsConnection;
  let tenantAccount: string;

  beforeAll(async () => {
    secure = await startSecureNatsServer(mkdtempSync(join(tmpdir(), 'sb-nats-auth-')));
    platform = await as((await platformAdminCreds(secure.security)).creds);
    const sys = await as((await systemUserCreds(secure.security)).creds);
    tenantAccount = newAccountPublicKey();
    const jwt = await tenantAccountJwt(authSecretsOf(secure.security), tenantAccount, { name: 'sb/t1', prefix: 'sb', tenantId: 't1', limits: { connections: 10, subscriptions: 100 } });
    const r = await sys.request('$SYS.REQ.CLAIMS.UPDATE', enc.encode(jwt), { timeout: 5_000 });
    expect(r.json<{ data?: { code?: number } }>().data?.code).toBe(200);
  });
  afterAll(async () => {
    for (const c of conns) await c.close();
    await secure?.server.destroy();
  });

  const tenantUser = async (tenantId: string) => {
    const u = createUser();
    const inbox = inboxPrefixOf(u.getPublicKey());
    const m = await mintUser(secure.security.tenantSigning, { name: tenantId, permissions: tenantPermissions(n, tenantId, ['tasks:submit', 'tasks:read'], inbox), issuerAccount: tenantAccount }, u);
    return as(m.creds, inbox);
  };

  it("a tenant's user gets its own tenant's task events through the account's stream import", async () => {
    const t = await tenantUser('t1');
    const got = collectMessages(t, n.tasks.eventsOfTenant('t1'));
    await t.flush();
    platform.publish(n.tasks.event('t2', 'x', 'succeeded'), enc.encode('{}'));
    platform.publish(n.tasks.event('t1', 'x', 'succeeded'), enc.encode('{}'));
    await eventually(() => got.messages.length === 1);
    expect(got.messages[0]!.subject).toBe(n.tasks.event('t1', 'x', 'succeeded'));
  });

  it("a tenant's request reaches the platform stamped with the tenant's account, and the reply comes back", async () => {
    let info: string | undefined;
    const sub = platform.subscribe(n.tasks.get, { callback: (_e, m) => { info = m.headers?.get('Nats-Request-Info'); m.respond(enc.encode('"ok"')); } });
    await platform.flush();
    const t = await tenantUser('t1');
    const h = (await import('@nats-io/nats-core')).headers();
    h.set('Nats-Request-Info', JSON.stringify({ acc: 'forged' }));
    const r = await t.request(n.tasks.get, enc.encode('{}'), { timeout: 5_000, headers: h });
    expect(r.string()).toBe('"ok"');
    expect(JSON.parse(info!).acc).toBe(tenantAccount);
    sub.unsubscribe();
  });

  it('an ops subscriber hears agents up and alerts through the OPS imports', async () => {
    const o = await as((await mintUser(secure.security.ops, { name: 'ops', permissions: subscriberPermissions(n) })).creds);
    const ups = collectMessages(o, n.agents.livenessOf('up'));
    const alerts = collectMessages(o, n.alerts.all);
    await o.flush();
    platform.publish(n.agents.up('a1'), enc.encode('{}'));
    platform.publish(n.alerts.event('critical', 'firing'), enc.encode('{}'));
    await eventually(() => ups.messages.length === 1 && alerts.messages.length === 1);
  });

  it("an agent's heartbeat reaches the platform, and its abort notice reaches it", async () => {
    const u = createUser();
    const inbox = inboxPrefixOf(u.getPublicKey());
    const a = await as((await mintUser(secure.security.agents, { name: 'a1', permissions: agentPermissions(n, 'a1', inbox) }, u)).creds, inbox);
    const beats = collectMessages(platform, n.agents.heartbeatAll);
    const aborts = collectMessages(a, n.agents.work('a1', 'abort'));
    await platform.flush();
    await a.flush();
    a.publish(n.agents.heartbeat('a1'), enc.encode('{}'));
    platform.publish(n.agents.work('a1', 'abort'), enc.encode('{}'));
    await eventually(() => beats.messages.length === 1 && aborts.messages.length === 1);
  });
});
