/** A busy worker takes high before normal before low, whatever the submit order. */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { watchRunning } from './support/watch-running';

jest.setTimeout(60_000);

describe('priorities', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('orders a backlog by priority', async () => {
    fleet = await startFleet({ workers: 0 });
    await fleet.startWorker({ WORKER_CONCURRENCY: '1' });
    const { key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const running = watchRunning(fleet, tenantId);
    const submit = (priority: string, ms: number) =>
      http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms }, priority } }).then((r) => r.body.taskId as string);

    // Occupy the only slot, then build a backlog in the worst order.
    const blocker = await submit('normal', 1_500);
    await running.started(blocker);
    const low = await submit('low', 10);
    const normal = await submit('normal', 10);
    const high = await submit('high', 10);
    await running.started(low);
    running.stop();
    expect(running.order).toEqual([blocker, high, normal, low]);
  });
});
