/** A gateway told to stop answers the submit-and-wait it is serving with the real outcome. */
import { type Fleet, startFleet } from './support/fleet';
import { tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';
import { watchRunning } from './support/watch-running';

jest.setTimeout(60_000);

describe('graceful shutdown', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('lets a waiting submit finish before the gateway goes', async () => {
    fleet = await startFleet({ workers: 1 });
    const { key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const running = watchRunning(fleet, tenantId);
    const queued = new Promise<string>((resolve) => {
      fleet.nc.subscribe(`${fleet.prefix}.v1.tasks.events.${tenantId}.*.queued`, { max: 1, callback: (_e, m) => resolve(m.subject.split('.').slice(-2)[0]) });
    });
    await fleet.nc.flush();
    const reply = natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'sleep', input: { ms: 800 }, wait: true }, { key, timeoutMs: 20_000 });
    await running.started(await queued);
    running.stop();
    const gateway = fleet.apps[2];
    const closing = gateway.close(); // what SIGTERM does
    expect((await reply).body).toMatchObject({ status: 'succeeded', result: { slept: 800 } });
    await closing;
  });
});
