/** Size limits end a task clearly instead of retrying it forever. */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';

jest.setTimeout(60_000);

describe('size limits', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('fails a task whose result cannot be stored, at once, with a clear code', async () => {
    fleet = await startFleet({ workers: 1, gatewayEnv: { MAX_INPUT_BYTES: '700000' } });
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    // The record holds the input and the echoed result: ~1.2 MB, over NATS's 1 MB message limit.
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 'x'.repeat(600_000), wait: true } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'TASK.RESULT_TOO_LARGE', retryable: false } });
  });
});
