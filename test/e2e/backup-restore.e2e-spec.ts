/**
 * Disaster recovery end to end (docs/backup.md): a running fleet with tenants and their policies,
 * API keys (one revoked), an access token, alert rules, silences, escalation policies, a
 * notification channel with secrets, task records, a dead letter and a task still queued is
 * backed up with `sb backup` (the built CLI, as an operator runs it, with the platform-admin
 * credentials). The fleet and its NATS server go away; `sb restore` fills a fresh nats-server
 * (same operator keys, a new store dir) and the services start on it, with the same prefix, KEK
 * and bootstrap keys and an empty Redis of their own. Everything comes back through the public
 * HTTP API, the old keys and token authenticate, the channel's secrets still sign, and the queued
 * task runs. Restoring over existing streams and backing up with a service's credentials are refused.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credsAuthenticator } from '@nats-io/nats-core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Buckets, names, Streams } from '@sb/contracts';
import { platformAdminCreds } from '@sb/messaging';
import { createLogger, createServiceApp } from '@sb/observability';
import { eventually, type SecureNats, type ServerHandle, startRedisServer, startSecureNatsServer } from '@sb/testing';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';
import { keyFor, natsSubmit, tenantOnPlan } from './support/tenancy';

// Two fleets, two nats-servers and four CLI runs: about 45 s on an idle machine.
jest.setTimeout(300_000);

const CLI = join(__dirname, '../../dist/tools/cli.js');
const GATEWAY_ENV = { TASK_MAX_ATTEMPTS: '2', TASK_BACKOFF_BASE_MS: '50', TASK_BACKOFF_MAX_MS: '100' };
// Failing is what the doomed task is for: no breaker may open on it.
const RECOVERY_ENV = { BREAKER_CONSECUTIVE_FAILURES: '1000', BREAKER_MIN_VOLUME: '1000000' };
const SIGNING_SECRET = 'whsec-backup-restore-0123456789';
const HEADER_SECRET = 'Bearer hook-token-abcdef0123456789';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The built `sb` CLI, with nothing of the test's environment but what an operator would set. */
function sb(args: string[], env: Record<string, string>): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

async function startAlerting(fleet: Fleet): Promise<void> {
  const env = { ...(await fleet.envFor('alerting')), ALERTING_WEBHOOK_ALLOW: '127.0.0.1', NOTIFY_BACKOFF_BASE_MS: '100' };
  const { app } = await createServiceApp({
    service: 'alerting',
    config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 },
    module: (l) => alertingModule(loadAlertingConfig(env), l),
    logger: createLogger('alerting', 'warn'),
  });
  await app.init();
  fleet.apps.push(app);
}

/** The fleet's streams as JetStream reports them, straight from the server (platform-admin credentials). */
async function streamStates(url: string, credsFile: string, prefix: string): Promise<Map<string, { messages: number; last_seq: number; consumer_count: number }>> {
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(readFileSync(credsFile)) });
  try {
    const jsm = await jetstreamManager(nc);
    const out = new Map<string, { messages: number; last_seq: number; consumer_count: number }>();
    const up = names(prefix).queue.stream.replace(/_TASKS$/, '_');
    for await (const si of jsm.streams.list()) {
      if (si.config.name.replace(/^KV_/, '').startsWith(up)) out.set(si.config.name, si.state);
    }
    return out;
  } finally {
    await nc.close();
  }
}

describe('sb backup and sb restore', () => {
  let root: string;
  let backupDir: string;
  let adminCreds: string;
  let original: Fleet;
  let restored: Fleet;
  let restoredNats: SecureNats;
  let restoredRedis: ServerHandle;
  let hook: Server;
  const hooked: { headers: IncomingHttpHeaders; body: string }[] = [];
  let backupRun: CliRun;
  let restoreRun: CliRun;
  /** What the original fleet held, read over HTTP just before the backup. */
  const before: Record<string, any> = {};
  const seeded: Record<string, string> = {};
  let streamsAtBackup: Map<string, { messages: number; last_seq: number; consumer_count: number }>;
  let streamsAfterRestore: Map<string, { messages: number; last_seq: number; consumer_count: number }>;

  const get = (fleet: Fleet, path: string, key: string) => http(fleet.httpUrl, 'GET', path, { key });
  /** Every view the test compares, read the same way from either fleet. */
  const views = async (fleet: Fleet) => ({
    tenants: (await get(fleet, '/v1/tenants', fleet.adminKey)).body,
    tenant: (await get(fleet, `/v1/tenants/${seeded.tenantId}`, fleet.adminKey)).body,
    // lastUsedAt is written (at most once a minute) whenever a key is used, this test's reads included.
    keys: (await get(fleet, `/v1/keys?tenantId=${seeded.tenantId}`, fleet.adminKey)).body.map(({ lastUsedAt: _, ...k }: { lastUsedAt?: string }) => k),
    rules: (await get(fleet, '/v1/alert-rules', seeded.operatorKey)).body,
    rule: (await get(fleet, `/v1/alert-rules/${seeded.ruleId}`, seeded.operatorKey)).body,
    silences: (await get(fleet, '/v1/silences', seeded.operatorKey)).body,
    policies: (await get(fleet, '/v1/escalation-policies', seeded.operatorKey)).body,
    channels: (await get(fleet, '/v1/notification-channels', fleet.adminKey)).body,
    doneTask: (await get(fleet, `/v1/tasks/${seeded.doneTaskId}`, seeded.tenantKey)).body,
    deadTask: (await get(fleet, `/v1/tasks/${seeded.deadTaskId}`, seeded.tenantKey)).body,
    queuedTask: (await get(fleet, `/v1/tasks/${seeded.queuedTaskId}`, seeded.tenantKey)).body,
    deadLetters: (await get(fleet, '/v1/dead-letters', seeded.tenantKey)).body,
  });

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sb-backup-e2e-'));
    backupDir = join(root, 'backup');
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        hooked.push({ headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

    // ---- the original fleet, with something of everything ----
    original = await startFleet({ workers: 0, gatewayEnv: GATEWAY_ENV });
    await startAlerting(original);
    await startRecovery(original, RECOVERY_ENV);
    const worker = await original.startWorker();
    const base = original.httpUrl;
    const admin = original.adminKey;

    seeded.tenantId = await tenantOnPlan(base, admin, 'pro', { limits: { models: ['small', 'custom-model'], maxConcurrent: 2 } });
    const key = await keyFor(base, admin, seeded.tenantId);
    seeded.tenantKey = key.key;
    seeded.keyId = key.id;
    expect((await http(base, 'PATCH', `/v1/tenants/${seeded.tenantId}`, { key: admin, body: { keyLimits: { [key.id]: { rate: 50, burst: 100 } } } })).status).toBe(200);
    const revoked = await keyFor(base, admin, seeded.tenantId);
    seeded.revokedKey = revoked.key;
    expect((await http(base, 'DELETE', `/v1/keys/${revoked.id}`, { key: admin })).status).toBe(200);
    seeded.operatorKey = await operatorKey(base, admin, ['alerts:read', 'alerts:write']);
    seeded.token = (await http(base, 'POST', '/v1/tokens', { key: seeded.tenantKey, body: {} })).body.token;
    expect(seeded.token).toEqual(expect.any(String));

    const rule = { type: 'threshold', name: 'BackupQueueDeep', severity: 'warning', selector: { metric: 'sb_fleet_queue_pending' }, op: '>', value: 1000, forMs: 60_000 };
    const createdRule = await http(base, 'POST', '/v1/alert-rules', { key: admin, body: rule });
    expect(createdRule.status).toBe(201);
    seeded.ruleId = createdRule.body.id;
    const endsAt = new Date(Date.now() + 24 * 3600_000).toISOString();
    const silence = { matchers: [{ name: 'agent', op: '=~', value: 'w-.*' }], endsAt, comment: 'planned maintenance' };
    expect((await http(base, 'POST', '/v1/silences', { key: seeded.operatorKey, body: silence })).status).toBe(201);
    const policy = { name: 'on-call', levels: [{ delayMs: 0, channelIds: ['ops'] }, { delayMs: 600_000, channelIds: ['leads'] }], repeat: 2 };
    expect((await http(base, 'POST', '/v1/escalation-policies', { key: admin, body: policy })).status).toBe(201);
    const channel = { type: 'webhook', name: 'ops-hook', url: hookUrl, headers: { Authorization: HEADER_SECRET }, signingSecret: SIGNING_SECRET };
    const createdChannel = await http(base, 'POST', '/v1/notification-channels', { key: admin, body: channel });
    expect(createdChannel.status).toBe(201);
    seeded.channelId = createdChannel.body.id;

    const done = await http(base, 'POST', '/v1/tasks', { key: seeded.tenantKey, body: { capability: 'echo', input: { hello: 'backup' }, wait: true, timeoutMs: 15_000 } });
    expect(done.body).toMatchObject({ status: 'succeeded' });
    seeded.doneTaskId = done.body.taskId;
    const dead = await http(base, 'POST', '/v1/tasks', { key: seeded.tenantKey, body: { capability: 'flaky', input: { failTimes: 50, result: 'x' }, wait: true, timeoutMs: 15_000 } });
    expect(dead.body).toMatchObject({ status: 'dead_lettered', attempts: 2 });
    seeded.deadTaskId = dead.body.taskId;
    await eventually(async () => (await get(original, '/v1/dead-letters', seeded.tenantKey)).body.length === 1, { timeoutMs: 10_000, description: 'the dead letter is listed' });
    // No worker now: this task stays queued, in the work-queue stream, through the backup (with a
    // deadline far enough away that the outage does not time it out).
    await worker.close();
    original.apps.splice(original.apps.indexOf(worker), 1);
    const queued = await http(base, 'POST', '/v1/tasks', { key: seeded.tenantKey, body: { capability: 'echo', input: { after: 'restore' }, timeoutMs: 3_600_000 } });
    expect(queued.status).toBe(202);
    seeded.queuedTaskId = queued.body.taskId;
    Object.assign(before, await views(original));
    expect(before.queuedTask.status).toBe('queued');

    // ---- sb backup of the running fleet, with the platform-admin user ----
    const security = original.secureNats!.security;
    adminCreds = join(root, 'platform-admin.creds');
    writeFileSync(adminCreds, (await platformAdminCreds(security, 'backup-operator')).creds, { mode: 0o600 });
    backupRun = await sb(['backup', '--out', backupDir], { NATS_URL: original.env.NATS_URL, NATS_CREDS: adminCreds, SB_PREFIX: original.prefix });
    expect({ code: backupRun.code, stderr: backupRun.stderr }).toEqual({ code: 0, stderr: '' });
    streamsAtBackup = await streamStates(original.env.NATS_URL, adminCreds, original.prefix);

    // ---- the disaster: the fleet, its NATS server and its store are gone ----
    const identity = { prefix: original.prefix, kek: original.authEnv.SB_KEK, adminKey: original.adminKey, agentKey: original.agentKey };
    await original.stop();
    rmSync(join(original.secureNats!.server.dataDir, '..'), { recursive: true, force: true });

    // ---- a fresh nats-server with the deployment's NATS keys, restored before any service starts ----
    restoredNats = await startSecureNatsServer(mkdtempSync(join(tmpdir(), 'sb-restored-nats-')), { security });
    restoreRun = await sb(['restore', backupDir], { NATS_URL: restoredNats.server.url, NATS_CREDS: adminCreds });
    expect({ code: restoreRun.code, stderr: restoreRun.stderr }).toEqual({ code: 0, stderr: '' });
    streamsAfterRestore = await streamStates(restoredNats.server.url, adminCreds, identity.prefix);

    // ---- the services, on the restored server, with an empty Redis of their own ----
    const servicesStarted = Date.now();
    restoredRedis = await startRedisServer();
    restored = await startFleet({ workers: 0, secureNats: restoredNats, identity, env: { REDIS_URL: restoredRedis.url }, gatewayEnv: GATEWAY_ENV });
    await startAlerting(restored);
    await startRecovery(restored, RECOVERY_ENV);
    const servicesMs = Date.now() - servicesStarted;

    const figures = process.env.SB_BACKUP_FIGURES;
    if (figures) {
      const bytes = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8')).streams.reduce((s: number, e: { bytes: number }) => s + e.bytes, 0);
      writeFileSync(figures, JSON.stringify({ backupMs: backupRun.ms, restoreMs: restoreRun.ms, servicesMs, bytes, streams: streamsAtBackup.size, backup: backupRun.stdout, restore: restoreRun.stdout }, null, 2));
    }
  });

  afterAll(async () => {
    await restored?.stop();
    await original?.stop().catch(() => undefined);
    await restoredNats?.server.destroy();
    if (restoredNats) rmSync(join(restoredNats.server.dataDir, '..'), { recursive: true, force: true });
    await restoredRedis?.destroy();
    // The alerting sender keeps its connection alive: close it, or close() waits for it.
    hook?.closeAllConnections();
    if (hook) await new Promise((r) => hook.close(r));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('backs up every stream and bucket of the prefix (0700/0600, checksummed) and restores each as it was', () => {
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
    const n = names(restored.prefix);
    expect(manifest).toMatchObject({ format: 'switchboard-backup', formatVersion: 1, prefix: restored.prefix, natsServer: { version: expect.any(String) } });
    const backedUp = manifest.streams.map((s: { name: string }) => s.name).sort();
    expect(backedUp).toEqual([...streamsAtBackup.keys()].sort());
    // Every stream and bucket the services declare is there (the span stream only exists once something was traced).
    const declared = [...Object.values(Streams).map((s) => s.name(n)), ...Object.values(Buckets).map((b) => `KV_${b.name(n)}`)];
    expect(declared.filter((s) => !backedUp.includes(s) && s !== n.spans.stream)).toEqual([]);

    expect(statSync(backupDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(backupDir, 'streams')).mode & 0o777).toBe(0o700);
    for (const s of manifest.streams) {
      const file = join(backupDir, s.file);
      expect([s.name, statSync(file).mode & 0o777]).toEqual([s.name, 0o600]);
      expect([s.name, createHash('sha256').update(readFileSync(file)).digest('hex')]).toEqual([s.name, s.sha256]);
    }
    expect(statSync(join(backupDir, 'manifest.json')).mode & 0o777).toBe(0o600);

    // On the fresh server, before any service touched it: every stream, with its messages and its consumers.
    expect([...streamsAfterRestore.keys()].sort()).toEqual(backedUp);
    for (const s of manifest.streams) {
      const got = streamsAfterRestore.get(s.name)!;
      expect([s.name, got.messages, got.last_seq, got.consumer_count]).toEqual([s.name, s.state.messages, s.state.last_seq, s.state.consumer_count]);
    }
    expect(backupRun.stdout).toMatch(/backed up \d+ streams/);
    expect(restoreRun.stdout).toMatch(new RegExp(`restored ${backedUp.length} streams`));
  });

  it('brings back tenants with their policies; the old API keys and access token authenticate, the revoked key does not', async () => {
    const after = await views(restored);
    expect(after.tenants).toEqual(before.tenants);
    expect(after.tenant).toEqual(before.tenant);
    expect(after.tenant).toMatchObject({ plan: 'pro', limits: { models: ['small', 'custom-model'], maxConcurrent: 2 }, keyLimits: { [seeded.keyId]: { rate: 50, burst: 100 } } });
    expect(after.keys).toEqual(before.keys);
    expect(after.keys).toHaveLength(2); // the live key and the revoked one
    expect(after.tenants.map((t: { id: string }) => t.id)).toContain(seeded.tenantId);

    // Authenticate: the tenant key (HTTP and NATS), the operator key, the bootstrap admin key, the token auth signed before the backup.
    expect((await get(restored, `/v1/tasks/${seeded.doneTaskId}`, seeded.tenantKey)).status).toBe(200);
    expect((await get(restored, `/v1/tasks/${seeded.doneTaskId}`, seeded.token)).status).toBe(200);
    expect((await get(restored, '/v1/silences', seeded.operatorKey)).status).toBe(200);
    expect((await get(restored, '/v1/tenants', restored.adminKey)).status).toBe(200);
    expect(await get(restored, `/v1/tasks/${seeded.doneTaskId}`, seeded.revokedKey)).toMatchObject({ status: 401 });
    // The tenant's model policy is enforced as before.
    const refused = await http(restored.httpUrl, 'POST', '/v1/tasks', { key: seeded.tenantKey, body: { capability: 'echo', metadata: { model: 'large' } } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'TENANCY.MODEL_NOT_ALLOWED', details: { allowed: ['small', 'custom-model'] } } } });
    const viaNats = await natsSubmit(restored.nc, restored.prefix, seeded.tenantKey, { capability: 'echo', metadata: { model: 'large' } });
    expect(viaNats.body.error.code).toBe('TENANCY.MODEL_NOT_ALLOWED');
  });

  it('brings back alert rules, silences, escalation policies and notification channels, whose secrets still sign', async () => {
    const after = await views(restored);
    expect(after.rule).toMatchObject({ id: seeded.ruleId, name: 'BackupQueueDeep', value: 1000 });
    expect(after.rules).toEqual(before.rules);
    expect(after.rules.map((r: { id: string }) => r.id)).toContain(seeded.ruleId);
    expect(after.silences).toEqual(before.silences);
    expect(after.silences).toHaveLength(1);
    expect(after.policies).toEqual(before.policies);
    expect(after.policies).toHaveLength(1);
    expect(after.channels).toEqual(before.channels);
    expect(after.channels).toHaveLength(1);

    // The channel's stored secrets (a header and the signing secret, shown masked) are the originals.
    const test = await http(restored.httpUrl, 'POST', `/v1/notification-channels/${seeded.channelId}/test`, { key: restored.adminKey });
    expect(test.status).toBe(202);
    const got = await eventually(() => hooked.find((h) => h.body.includes(test.body.notificationId)) ?? false, { timeoutMs: 15_000, description: 'the test notification arrives' });
    expect(got.headers.authorization).toBe(HEADER_SECRET);
    const ts = String(got.headers['x-switchboard-timestamp']);
    expect(got.headers['x-switchboard-signature']).toBe(`v1=${createHmac('sha256', SIGNING_SECRET).update(`${ts}.${got.body}`).digest('hex')}`);
  });

  it('brings back task records and dead letters, and runs the task that was still queued', async () => {
    const after = await views(restored);
    expect(after.doneTask).toEqual(before.doneTask);
    expect(after.doneTask).toMatchObject({ status: 'succeeded', result: expect.anything() });
    expect(after.deadTask).toEqual(before.deadTask);
    expect(after.deadLetters).toEqual(before.deadLetters);
    expect(after.deadLetters).toEqual([expect.objectContaining({ taskId: seeded.deadTaskId, attempts: 2 })]);
    expect(after.queuedTask).toEqual(before.queuedTask);

    await restored.startWorker();
    const ran = await http(restored.httpUrl, 'GET', `/v1/tasks/${seeded.queuedTaskId}/wait?timeoutMs=20000`, { key: seeded.tenantKey });
    expect(ran.body).toMatchObject({ taskId: seeded.queuedTaskId, status: 'succeeded', result: expect.anything() });
  });

  it('refuses to restore over existing streams without --force, and to back up with a service user', async () => {
    const again = await sb(['restore', backupDir], { NATS_URL: restoredNats.server.url, NATS_CREDS: adminCreds });
    expect(again.code).toBe(73);
    expect(again.stderr).toMatch(/^sb restore: BACKUP\.STREAMS_EXIST: \d+ of the backup's streams exist .*nothing restored/);
    expect(again.stderr).not.toMatch(/\n\s+at /);

    const gatewayCreds = (await restored.envFor('gateway')).NATS_CREDS;
    const denied = await sb(['backup', '--out', join(root, 'as-gateway')], { NATS_URL: restoredNats.server.url, NATS_CREDS: gatewayCreds, SB_PREFIX: restored.prefix });
    expect(denied.code).toBe(77);
    expect(denied.stderr).toMatch(/^sb backup: BACKUP\.NATS_PERMISSION: .*platform-admin/);
    expect(existsSync(join(root, 'as-gateway', 'manifest.json'))).toBe(false);
  });
});
