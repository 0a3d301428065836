/**
 * Load shedding end to end: with every slot busy and work queued past the threshold, `low`
 * submissions are refused with 503 + Retry-After while `high` is accepted; when the backlog
 * drains the shedding clears by itself and `low` flows again. The fleet overview shows the
 * capability as degraded while it lasts.
 */
import type { ShedState } from '@sb/contracts';
import { eventually, waitForMessage } from '@sb/testing';
import { startCollector } from './support/collector';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';

jest.setTimeout(60_000);

describe('load shedding end to end', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('sheds low while capacity is exhausted, high still flows, and it clears', async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false });
    await startCollector(fleet);
    await startRecovery(fleet, { SHED_TICK_MS: '200', SHED_LOW_DEFICIT: '2', SHED_NORMAL_DEFICIT: '1000', SHED_CLEAR_HOLD_MS: '500', SHED_RETRY_AFTER_S: '3' });
    await fleet.startWorker({ WORKER_CONCURRENCY: '2', WORKER_AGENTS: 'sleep', AGENT_HEARTBEAT_MS: '200' });
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const shedding = (level: string) =>
      waitForMessage<ShedState>(fleet.nc, `${fleet.prefix}.internal.resilience.shedding`, { timeoutMs: 20_000, filter: (m) => m.data.capability === 'sleep' && m.data.level === level });

    const low = shedding('low');
    await low.ready;
    const ids: string[] = [];
    for (const ms of [2_500, 2_500, 50, 50, 50, 50]) {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms }, priority: 'normal', timeoutMs: 30_000 } });
      expect(r.status).toBe(202);
      ids.push(r.body.taskId);
    }
    const state = (await low).data;
    expect(state).toMatchObject({ shedding: ['low'], reason: 'deficit' });
    expect(state.pending).toBeGreaterThanOrEqual(2);

    const degradedSleep = async () => {
      const o = await http(fleet.httpUrl, 'GET', '/v1/fleet/overview', { key: fleet.adminKey });
      expect(o.status).toBe(200);
      return (o.body.degradedCapabilities as Array<{ capability: string; reasons: string[] }>).find((d) => d.capability === 'sleep');
    };
    expect((await degradedSleep())?.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^shedding low priority \(deficit/)]));

    const refused = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 1 }, priority: 'low' } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(refused.body.error).toMatchObject({ code: 'RECOVERY.LOAD_SHED', retryable: true, retryAfter: 3 });
    const high = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 1 }, priority: 'high' } });
    expect(high.status).toBe(202);
    ids.push(high.body.taskId);

    const cleared = shedding('none');
    await cleared.ready;
    expect((await cleared).data).toMatchObject({ shedding: [], reason: null });
    await eventually(async () => expect((await degradedSleep())?.reasons ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^shedding/)])));
    const again = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 1 }, priority: 'low', wait: true } });
    expect(again.body.status).toBe('succeeded');
    const finals = await Promise.all(ids.map((id) => http(fleet.httpUrl, 'GET', `/v1/tasks/${id}/wait?timeoutMs=20000`, { key })));
    expect(finals.map((f) => f.body.status)).toEqual(ids.map(() => 'succeeded'));
  });
});
