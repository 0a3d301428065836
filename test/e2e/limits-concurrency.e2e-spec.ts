/** The submit rate is exact across gateway replicas: one Lua call decides each submission in Redis. */
import { type Fleet, startFleet } from './support/fleet';
import { http } from './support/http';
import { keyFor, natsSubmit, tenantOnPlan } from './support/tenancy';

jest.setTimeout(60_000);

describe('rate limits across gateway replicas', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('accepts exactly 100 of 500 simultaneous submissions spread over two gateways and NATS', async () => {
    fleet = await startFleet({ workers: 1 });
    const second = await fleet.startGateway();
    // Refill is one per 1000 s: only the burst of 100 can pass during the test.
    const id = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'enterprise', { limits: { submitRate: 0.001, submitBurst: 100 } });
    const keys = await Promise.all([keyFor(fleet.httpUrl, fleet.adminKey, id), keyFor(fleet.httpUrl, fleet.adminKey, id)]);
    const statuses = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const key = keys[i % 2].key;
        if (i % 5 === 4) {
          const r = await natsSubmit(fleet.nc, fleet.prefix, key, { capability: 'echo', input: i });
          return r.header('Nats-Service-Error-Code') ? Number(r.header('Nats-Service-Error-Code')) : 202;
        }
        const base = i % 2 === 0 ? fleet.httpUrl : second.httpUrl;
        return (await http(base, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: i } })).status;
      }),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(100);
    expect(statuses.filter((s) => s === 429)).toHaveLength(400);
  });
});
