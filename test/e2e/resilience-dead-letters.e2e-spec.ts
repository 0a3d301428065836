/**
 * Dead letters over HTTP: a task that exhausts its retries is listed and inspected with every
 * attempt's error (tenant-scoped: another tenant gets 404), bad requests change nothing,
 * a redrive with an edited input succeeds (and a second redrive is refused), and a purge
 * empties the capability.
 */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';

jest.setTimeout(60_000);

describe('dead letters end to end', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('lists, inspects, redrives with an edited input, refuses bad input and purges', async () => {
    fleet = await startFleet({ workers: 0, gatewayEnv: { TASK_MAX_ATTEMPTS: '2', TASK_BACKOFF_BASE_MS: '50', TASK_BACKOFF_MAX_MS: '100' } });
    await startRecovery(fleet, { BREAKER_CONSECUTIVE_FAILURES: '1000' });
    await fleet.startWorker();
    const owner = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const other = await tenantWithKey(fleet.httpUrl, fleet.adminKey);

    const submitDoomed = async () => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: owner.key, body: { capability: 'flaky', input: { failTimes: 50, result: 'x' }, wait: true, timeoutMs: 15_000 } });
      expect(r.body).toMatchObject({ status: 'dead_lettered', attempts: 2 });
      return r.body.taskId as string;
    };
    const taskId = await submitDoomed();

    const list = await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const entry = list.body[0];
    expect(entry).toMatchObject({ taskId, tenantId: owner.tenantId, capability: 'flaky', attempts: 2, fingerprintCount: 1, lastError: { code: 'AGENT.FLAKY', class: 'agent_error', attempt: 2 } });
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
    await submitDoomed();
    await submitDoomed();
    const two = await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key });
    expect(two.body.map((e: { fingerprintCount: number }) => e.fingerprintCount)).toEqual([2, 2]);
    const purge = await http(fleet.httpUrl, 'DELETE', '/v1/dead-letters?capability=flaky', { key: fleet.adminKey });
    expect(purge.body).toEqual({ purged: 2 });
    expect((await http(fleet.httpUrl, 'GET', '/v1/dead-letters?capability=flaky', { key: owner.key })).body).toEqual([]);
  });
});
