/** A revoked key stops working on every gateway replica within a second (pushed, not waited out). */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';

jest.setTimeout(60_000);

describe('revocation across gateways', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('reaches a second gateway that had the key cached', async () => {
    fleet = await startFleet({ workers: 0, gatewayEnv: { AUTH_CACHE_TTL_MS: '300000' } });
    const second = await fleet.startGateway();
    const { tenantId, key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    // Both gateways verify (and cache) the key.
    for (const url of [fleet.httpUrl, second.httpUrl]) expect((await http(url, 'GET', '/v1/tasks', { key })).status).toBe(200);
    const keys = await http(fleet.httpUrl, 'GET', `/v1/keys?tenantId=${tenantId}`, { key: fleet.adminKey });
    const started = process.hrtime.bigint();
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/keys/${keys.body[0].id}`, { key: fleet.adminKey })).status).toBe(200);
    // Poll the second gateway until it refuses; the first refuses at once (same connection order as the reply).
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key })).status).toBe(401);
    let refusedAfterMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 200; i++) {
      if ((await http(second.httpUrl, 'GET', '/v1/tasks', { key })).status === 401) {
        refusedAfterMs = Number(process.hrtime.bigint() - started) / 1e6;
        break;
      }
    }
    process.stdout.write(`revocation reached the second gateway after ${refusedAfterMs.toFixed(1)} ms\n`);
    expect(refusedAfterMs).toBeLessThan(1000);
  });
});
