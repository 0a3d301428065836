/**
 * A capability that keeps failing opens its breaker: the gateway answers 503 + Retry-After
 * at once (other capabilities still flow), and after the cool-down a succeeding probe closes
 * it and submissions flow again.
 */
import type { BreakerState } from '@sb/contracts';
import { collectMessages, eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';
import { startRecovery } from './support/resilience-recovery';

jest.setTimeout(60_000);

describe('circuit breakers end to end', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  it('opens on repeated agent failures, refuses fast, probes after the cool-down and closes', async () => {
    fleet = await startFleet({ workers: 0, gatewayEnv: { DISPATCH_OUTCOME_FLUSH_MS: '50' } });
    await startRecovery(fleet, { BREAKER_CONSECUTIVE_FAILURES: '3', BREAKER_COOLDOWN_MS: '2000', BREAKER_TICK_MS: '100' });
    await fleet.startWorker();
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const breakers = collectMessages<BreakerState>(fleet.nc, `${fleet.prefix}.internal.resilience.breakers`, { filter: (m) => m.data.scope === 'capability' && m.data.capability === 'flaky' });
    await breakers.ready;

    for (let i = 0; i < 3; i++) {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { fail: 'permanent' }, wait: true, timeoutMs: 10_000 } });
      expect(r.body.status).toBe('failed');
      expect(r.body.error).toMatchObject({ code: 'AGENT.FLAKY_PERMANENT', class: 'agent_error' });
    }
    const [opened] = await breakers.waitForCount(1, { timeoutMs: 10_000 });
    expect(opened.data).toMatchObject({ state: 'open', reason: 'all_agents_open' });

    // Fast 503 with Retry-After (the gateway follows the broadcast state; a submit admitted before it arrived only becomes a probe).
    const refused = await eventually(async () => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 0 } } });
      return r.status === 503 ? r : false;
    });
    expect(refused.body.error).toMatchObject({ code: 'RECOVERY.CAPABILITY_UNAVAILABLE', retryable: true });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(refused.body.error.retryAfter).toBe(retryAfter);
    // The same over NATS: error headers with Retry-After.
    const overNats = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'flaky', input: { failTimes: 0 } }, { key });
    expect(overNats).toMatchObject({ errorCode: '503', body: { error: { code: 'RECOVERY.CAPABILITY_UNAVAILABLE', retryable: true } } });
    expect(Number(overNats.retryAfter)).toBeGreaterThanOrEqual(1);
    // Other capabilities are unaffected.
    const echo = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: { x: 1 }, wait: true } });
    expect(echo.body.status).toBe('succeeded');

    // Cool-down over: half-open admits a probe; it succeeds and the breaker closes.
    const [, half] = await breakers.waitForCount(2, { timeoutMs: 10_000 });
    expect(half.data.state).toBe('half_open');
    // The gateway follows the resilience bucket, which may reach it after the broadcast reached us: until it does, it still refuses (and changes nothing).
    const probe = await eventually(async () => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 0, result: 'probe' }, wait: true, timeoutMs: 15_000 } });
      return r.status === 503 ? false : r;
    }, { timeoutMs: 20_000, description: 'the gateway admits the half-open probe' });
    expect(probe.body).toMatchObject({ status: 'succeeded', result: { ok: true } });
    const all = await breakers.waitForCount(3, { timeoutMs: 10_000 });
    expect(all[all.length - 1].data.state).toBe('closed');
    const after = await eventually(async () => {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 0 } } });
      return r.status === 202 ? r : false;
    });
    expect(after.body.status).toBe('queued');
    await breakers.stop();
  });
});
