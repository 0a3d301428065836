/**
 * Concurrent-task slots: a tenant never has more tasks running than its ceiling (the rest stay
 * queued), and a slot held by a SIGKILLed worker comes back when its lease runs out.
 */
import { http } from './support/http';
import { type Fleet, startFleet } from './support/fleet';
import { keyFor, tenantOnPlan } from './support/tenancy';

jest.setTimeout(90_000);

describe('concurrent-task slots', () => {
  let fleet: Fleet;
  let inProcess: { close(): Promise<void> } | undefined;
  afterAll(() => fleet?.stop());

  it('runs at most 2 of a tenant with a ceiling of 2 at once, and all of them finish', async () => {
    fleet = await startFleet({ workers: 0 });
    inProcess = await fleet.startWorker({ WORKER_CONCURRENCY: '8' });
    const tenantId = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro', { limits: { maxConcurrent: 2 } });
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, tenantId);
    let running = 0;
    let peak = 0;
    const ended = new Set<string>();
    const sub = fleet.nc.subscribe(`${fleet.prefix}.v1.tasks.events.${tenantId}.>`, {
      callback: (_e, m) => {
        const [taskId, status] = m.subject.split('.').slice(-2);
        if (status === 'running') peak = Math.max(peak, ++running);
        else if (status !== 'queued' && !ended.has(taskId)) {
          ended.add(taskId);
          running--;
        }
      },
    });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 300 } } })).body.taskId);
    const finals = await Promise.all(ids.map((id) => http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=30000`, { key })));
    sub.unsubscribe();
    expect(finals.map((f) => f.body.status)).toEqual(ids.map(() => 'succeeded'));
    expect(peak).toBe(2);
  });

  it("reclaims a SIGKILLed worker's slot when its lease expires", async () => {
    const tenantId = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro', { limits: { maxConcurrent: 1 } });
    const { key } = await keyFor(fleet.httpUrl, fleet.adminKey, tenantId);
    await inProcess?.close(); // the victim is then the only worker: it takes the first task
    const victim = await fleet.spawnWorker({ WORKER_ID: 'victim', WORKER_AGENTS: 'sleep', WORKER_TEST_AGENTS: 'true' });
    const started = new Promise<string>((resolve) => {
      fleet.nc.subscribe(`${fleet.prefix}.v1.tasks.events.${tenantId}.*.running`, { max: 1, callback: (_e, m) => resolve(JSON.parse(new TextDecoder().decode(m.data)).agentId) });
    });
    const first = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 500 }, timeoutMs: 60_000 } });
    expect(await started).toBe('victim');
    await victim.kill('SIGKILL'); // its lease on the tenant's only slot is never released
    await fleet.startWorker({ WORKER_ID: 'survivor' });
    const second = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 10 }, timeoutMs: 60_000 } });
    const finals = await Promise.all([first, second].map((r) => http(fleet.httpUrl, 'GET', `/v1/tasks/${r.body.taskId}/wait?timeoutMs=30000`, { key })));
    expect(finals.map((f) => f.body.status)).toEqual(['succeeded', 'succeeded']);
    expect(finals.map((f) => f.body.agentId)).toEqual(['survivor', 'survivor']);
  });
});
