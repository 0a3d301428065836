/**
 * SIGKILL worker processes holding tasks: every accepted task still finishes, none is lost; and
 * with every worker killed while a few hundred tasks with the default timeout wait, none of them
 * ends without ever having run (the dispatcher knows what each agent was handed, taken but not
 * yet started included, and hands it back the moment the agent is declared down).
 */
import { collectMessages } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { keyFor, tenantOnPlan } from './support/tenancy';
import { watchRunning } from './support/watch-running';

jest.setTimeout(90_000);

describe('worker killed mid-task', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('loses no accepted task', async () => {
    // 300 waits on one key at once: above the gateway's default per-key caps on waits and reads, on purpose here.
    fleet = await startFleet({ workers: 0, gatewayEnv: { WAIT_MAX_PER_KEY: '1000', KEY_READ_BURST: '1000' } });
    const { key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const victim = await fleet.spawnWorker({ WORKER_CONCURRENCY: '4' });
    const running = watchRunning(fleet, tenantId);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 1_000 }, timeoutMs: 60_000 } });
      expect(r.status).toBe(202);
      ids.push(r.body.taskId);
    }
    // Kill it while it holds tasks.
    await running.started(ids[0]);
    await victim.kill('SIGKILL');
    running.stop();
    const survivor = await fleet.spawnWorker({ WORKER_CONCURRENCY: '4' });
    const finals = await Promise.all(ids.map((id) => http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=45000`, { key })));
    expect(finals.map((f) => f.body.status)).toEqual(ids.map(() => 'succeeded'));
    // The killed worker's tasks ran again elsewhere.
    expect(finals.some((f) => f.body.attempts >= 2)).toBe(true);
    await survivor.kill('SIGTERM');
  });

  it('kill every worker with a few hundred default-timeout tasks queued: every task runs', async () => {
    const { key, tenantId } = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'enterprise').then(async (id) => ({ ...(await keyFor(fleet.httpUrl, fleet.adminKey, id)), tenantId: id }));
    const victims = await Promise.all([fleet.spawnWorker({ WORKER_CONCURRENCY: '8' }), fleet.spawnWorker({ WORKER_CONCURRENCY: '8' })]);
    const running = collectMessages(fleet.nc, `${fleet.prefix}.v1.tasks.events.${tenantId}.*.running`);
    await running.ready;
    const ids: string[] = [];
    // No timeoutMs: the default (30 s), as long as the queue's ack wait, so the server's own redelivery would come too late.
    for (let i = 0; i < 300; i += 30) {
      const batch = await Promise.all(Array.from({ length: 30 }, () => http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 100 } } })));
      for (const r of batch) {
        expect(r.status).toBe(202);
        ids.push(r.body.taskId);
      }
    }
    // Both are busy (each has been handed work), then both die.
    await running.waitForCount(16);
    await Promise.all(victims.map((v) => v.kill('SIGKILL')));
    await Promise.all([fleet.spawnWorker({ WORKER_CONCURRENCY: '8' }), fleet.spawnWorker({ WORKER_CONCURRENCY: '8' })]);
    const finals = await Promise.all(ids.map((id) => http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=60000`, { key })));
    await running.stop();
    const refused = finals.filter((f) => f.status !== 200);
    expect(refused.map((f) => [f.status, f.body.error])).toEqual([]);
    const neverRan = finals.filter((f) => !(f.body.attempts >= 1));
    expect(neverRan.map((f) => `${f.body.taskId}:${f.body.status}`)).toEqual([]);
    expect(finals.filter((f) => f.body.status !== 'succeeded').map((f) => `${f.body.taskId}:${f.body.status}`)).toEqual([]);
  });
});
