/**
 * Dead letters over HTTP: a task that exhausts its retries is listed and inspected with every
 * attempt's error (tenant-scoped: another tenant gets 404), bad requests change nothing,
 * a redrive with an edited input succeeds (and a second redrive is refused), and a purge
 * empties the capability. A redrive is admitted like a submit (a tenant at its quota cannot
 * redrive), and a task is redriven at most DLQ_REDRIVE_MAX (3) times.
 */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';

jest.setTimeout(60_000);

describe('dead letters end to end', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, gatewayEnv: { TASK_MAX_ATTEMPTS: '2', TASK_BACKOFF_BASE_MS: '50', TASK_BACKOFF_MAX_MS: '100' } });
    // Failing is what these tasks are for: no circuit breaker may open on them.
    await startRecovery(fleet, { BREAKER_CONSECUTIVE_FAILURES: '1000', BREAKER_MIN_VOLUME: '1000000' });
    await fleet.startWorker();
  });
  afterAll(() => fleet?.stop());

  /** A task that fails every attempt: dead-lettered after 2. */
  const submitDoomed = async (key: string) => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 50, result: 'x' }, wait: true, timeoutMs: 15_000 } });
    expect(r.body).toMatchObject({ status: 'dead_lettered', attempts: 2 });
    return r.body.taskId as string;
  };
  /** The task's dead letter, as its tenant lists it. */
  const entryOf = async (key: string, taskId: string) => {
    const list = await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key });
    return (list.body as Array<{ id: string; taskId: string; redrives: number }>).find((e) => e.taskId === taskId);
  };

  it('lists, inspects, redrives with an edited input, refuses bad input and purges', async () => {
    const owner = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const other = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const taskId = await submitDoomed(owner.key);

    const list = await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const entry = list.body[0];
    expect(entry).toMatchObject({ taskId, tenantId: owner.tenantId, capability: 'flaky', attempts: 2, fingerprintCount: 1, redrives: 0, lastError: { code: 'AGENT.FLAKY', class: 'agent_error', attempt: 2 } });
    expect(entry.fingerprint).toMatch(/^[0-9a-f]{32}$/);

    const detail = await http(fleet.httpUrl, 'GET', `/v1/dead-letters/${entry.id}`, { key: owner.key });
    expect(detail.body.errors.map((e: { attempt: number }) => e.attempt)).toEqual([1, 2]);
    expect(detail.body.task).toMatchObject({ taskId, input: { failTimes: 50, result: 'x' } });

    // Another tenant: not found, and an empty list.
    expect((await http(fleet.httpUrl, 'GET', `/v1/dead-letters/${entry.id}`, { key: other.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key: other.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters', { key: other.key })).body).toEqual([]);
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters', { key: fleet.adminKey })).body.map((e: { id: string }) => e.id)).toContain(entry.id);
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters')).status).toBe(401);

    // Bad input: 400, nothing changed.
    for (const [method, path, body] of [
      ['POST', `/v1/dead-letters/${entry.id}/redrive`, { input: {}, unknown: 1 }],
      ['POST', `/v1/dead-letters/${entry.id}/redrive`, { priority: 'urgent' }],
      ['GET', '/v1/dead-letters?limit=0', undefined],
      ['GET', '/v1/dead-letters?bogus=1', undefined],
      ['GET', '/v1/dead-letters/not-a-number', undefined],
      ['DELETE', '/v1/dead-letters?capability=Bad_Cap', undefined],
    ] as const) {
      const r = await http(fleet.httpUrl, method, path, { key: owner.key, body });
      expect([path, r.status, r.body.error.code]).toEqual([path, 400, 'REQUEST.INVALID']);
    }
    expect((await http(fleet.httpUrl, 'GET', `/v1/dead-letters/${entry.id}`, { key: owner.key })).status).toBe(200);

    // Redrive with an edited input: the same task runs again and succeeds.
    const redrive = await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key: owner.key, body: { input: { failTimes: 0, result: 'fixed' }, priority: 'high' } });
    expect(redrive.status).toBe(202);
    expect(redrive.body).toEqual({ id: entry.id, taskId, status: 'queued', priority: 'high', inputChanged: true });
    const done = await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}/wait?timeoutMs=15000`, { key: owner.key });
    expect(done.body).toMatchObject({ status: 'succeeded', result: { ok: true, result: 'fixed' }, priority: 'high', attempts: 1 });
    expect((await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key: owner.key })).status).toBe(404);
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key })).body).toEqual([]);

    // Purge.
    await submitDoomed(owner.key);
    await submitDoomed(owner.key);
    const two = await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key });
    expect(two.body.map((e: { fingerprintCount: number }) => e.fingerprintCount)).toEqual([2, 2]);
    const purge = await http(fleet.httpUrl, 'DELETE', '/v1/dead-letters?capability=flaky', { key: fleet.adminKey });
    expect(purge.body).toEqual({ purged: 2 });
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key })).body).toEqual([]);
  });

  it('admits a redrive like a submit: a tenant at its daily quota cannot redrive, not even through an admin', async () => {
    const t = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const patch = (tasksPerDay: number) => http(fleet.httpUrl, 'PATCH', `/v1/tenants/${t.tenantId}`, { key: fleet.adminKey, body: { limits: { tasksPerDay } } });
    expect((await patch(1)).status).toBe(200);
    const taskId = await submitDoomed(t.key); // the day's one task
    const entry = (await entryOf(t.key, taskId))!;

    for (const key of [t.key, fleet.adminKey]) {
      const r = await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key, body: { input: { failTimes: 0, result: 'fixed' } } });
      expect([r.status, r.body.error]).toEqual([429, expect.objectContaining({ code: 'TENANCY.QUOTA_EXCEEDED', details: { quota: 'tasksPerDay' } })]);
    }
    // Nothing changed: the dead letter is there, the task still dead-lettered.
    expect(await entryOf(t.key, taskId)).toMatchObject({ id: entry.id, redrives: 0 });
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}`, { key: t.key })).body.status).toBe('dead_lettered');

    // With room in the quota the same redrive goes through, and counts against it.
    expect((await patch(2)).status).toBe(200);
    const ok = await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key: t.key, body: { input: { failTimes: 0, result: 'fixed' } } });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('ratelimit-limit')).toEqual(expect.any(String));
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}/wait?timeoutMs=15000`, { key: t.key })).body).toMatchObject({ status: 'succeeded' });
    const next = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: t.key, body: { capability: 'echo', input: 1 } });
    expect([next.status, next.body.error?.code]).toEqual([429, 'TENANCY.QUOTA_EXCEEDED']);
  });

  it('redrives a task at most three times: the fourth is 409 RECOVERY.REDRIVE_LIMIT and changes nothing', async () => {
    const t = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const taskId = await submitDoomed(t.key);
    for (let n = 1; n <= 3; n++) {
      const entry = (await entryOf(t.key, taskId))!;
      expect(entry.redrives).toBe(n - 1);
      const r = await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${entry.id}/redrive`, { key: t.key });
      expect([n, r.status]).toEqual([n, 202]);
      // It fails again and is dead-lettered again, as a new entry.
      expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}/wait?timeoutMs=15000`, { key: t.key })).body).toMatchObject({ status: 'dead_lettered', attempts: 2 });
    }
    const last = (await entryOf(t.key, taskId))!;
    expect(last.redrives).toBe(3);
    for (const key of [t.key, fleet.adminKey]) {
      const fourth = await http(fleet.httpUrl, 'POST', `/v1/dead-letters/${last.id}/redrive`, { key, body: { input: { failTimes: 0 } } });
      expect([fourth.status, fourth.body.error]).toEqual([409, expect.objectContaining({ code: 'RECOVERY.REDRIVE_LIMIT', retryable: false })]);
    }
    expect(await entryOf(t.key, taskId)).toMatchObject({ id: last.id, redrives: 3 });
    expect((await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}`, { key: t.key })).body.status).toBe('dead_lettered');
  });
});
