/** SIGKILL a worker process holding tasks: every accepted task still finishes, none is lost. */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { watchRunning } from './support/watch-running';

jest.setTimeout(90_000);

describe('worker killed mid-task', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('loses no accepted task', async () => {
    fleet = await startFleet({ workers: 0 });
    const { key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const victim = await fleet.spawnWorker({ WORKER_CONCURRENCY: '4', TASK_ACK_WAIT_MS: '2000' });
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
    await fleet.spawnWorker({ WORKER_CONCURRENCY: '4', TASK_ACK_WAIT_MS: '2000' });
    const finals = await Promise.all(ids.map((id) => http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=45000`, { key })));
    expect(finals.map((f) => f.body.status)).toEqual(ids.map(() => 'succeeded'));
    // The killed worker's tasks ran again elsewhere.
    expect(finals.some((f) => f.body.attempts >= 2)).toBe(true);
  });
});
