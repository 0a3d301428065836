/**
 * What the dispatcher decides for untrusted agents, end to end through the public protocol with
 * agents written on the SDK (`defineAgent` / `runAgents`), checked from outside (HTTP, the
 * breakers' broadcast, what the agents' handlers saw):
 *  - failures an agent reports through `fail` reach recovery as its outcomes and open its breaker
 *    for that capability; while it is open the agent is handed no task of that capability (it
 *    keeps getting others) while another agent with the capability is;
 *  - a tenant with a ceiling of one running task never has two running at once, its other tasks
 *    still run (each on its first delivery), and another tenant's tasks are not held up by them.
 */
import type { INestApplication } from '@nestjs/common';
import { type Agent, defineAgent, type Logger, PermanentError, type Runner, runAgents } from '@switchboard/agent-sdk';
import type { BreakerState } from '@sb/contracts';
import { BreakerGate } from '@sb/tasks';
import { collectMessages, eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';
import { keyFor, tenantOnPlan } from './support/tenancy';

jest.setTimeout(90_000);

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: (m, f) => console.error(`[agent-sdk] ${m} ${f ? JSON.stringify(f) : ''}`) };
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dispatcher gating (breakers, tenant slots) through the agent protocol', () => {
  let fleet: Fleet;
  const runners: Runner[] = [];

  const run = async (agentId: string, agents: Agent<any, any>[], concurrency = 4) => {
    const r = await runAgents({ nats: { servers: fleet.env.NATS_URL }, natsCreds: fleet.agentCreds, prefix: fleet.prefix, agentId, credentials: fleet.agentKey, agents, concurrency, heartbeatMs: 200, takeWaitMs: 2_000, logger: quiet, handleSignals: false });
    runners.push(r);
    await r.ready;
    return r;
  };
  const submit = (key: string, capability: string, input: unknown, wait = false) => http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability, input, wait, timeoutMs: 30_000 } });
  const finished = (key: string, taskId: string) => http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}/wait?timeoutMs=30000`, { key }).then((r) => r.body);

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, gatewayEnv: { DISPATCH_OUTCOME_FLUSH_MS: '50' } });
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await fleet?.stop();
  });

  it("opens an agent's breaker on the failures it reports, then hands it no task of that capability while another agent gets them", async () => {
    await startRecovery(fleet, { BREAKER_CONSECUTIVE_FAILURES: '3', BREAKER_COOLDOWN_MS: '60000', BREAKER_TICK_MS: '100' });
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const seenByBad: string[] = [];
    const good = defineAgent({ name: 'good-judge', capabilities: ['judge'], handle: async () => (await pause(150), { by: 'good' }) });
    const bad = defineAgent({
      name: 'bad-judge',
      capabilities: ['judge'],
      handle: (t) => {
        seenByBad.push(t.taskId);
        throw new PermanentError('JUDGE.BROKEN', 'this judge is broken');
      },
    });
    const chat = defineAgent({ name: 'chat', capabilities: ['chat'], handle: () => ({ by: 'bad' }) });

    // recovery first learns a healthy agent for the capability, so opening bad's breaker leaves the capability itself closed.
    const goodOutcomes = collectMessages(fleet.nc, `${fleet.prefix}.internal.resilience.outcomes.good`);
    await goodOutcomes.ready;
    const first = await run('good', [good], 1);
    expect((await submit(key, 'judge', { n: 0 }, true)).body).toMatchObject({ status: 'succeeded', agentId: 'good' });
    await goodOutcomes.waitForCount(1);
    await goodOutcomes.stop();
    await first.stop();

    // Failures reported through `fail` open bad's breaker for `judge` (and only for bad).
    const opened = collectMessages<BreakerState>(fleet.nc, `${fleet.prefix}.internal.resilience.breakers`, { filter: (m) => m.data.scope === 'agent' && m.data.state === 'open' });
    await opened.ready;
    await run('bad', [bad, chat]);
    for (let i = 1; i <= 3; i++) {
      const r = await submit(key, 'judge', { n: i }, true);
      expect(r.body).toMatchObject({ status: 'failed', agentId: 'bad', error: { code: 'JUDGE.BROKEN', class: 'agent_error' } });
    }
    const [open] = await opened.waitForCount(1, { timeoutMs: 10_000 });
    expect(open.data).toMatchObject({ agentId: 'bad', capability: 'judge', state: 'open' });
    await opened.stop();
    // The gateway follows the resilience bucket (written by recovery's leader after the broadcast).
    const gate = (await gatewayOf(fleet)).get(BreakerGate);
    await eventually(() => gate.allow('bad', 'judge', 1) === 0, { description: "the dispatcher sees bad's breaker open" });

    // bad keeps taking (it long-polls for judge and chat); judge tasks all go to good, chat still to bad.
    expect(seenByBad).toHaveLength(3);
    await run('good', [good], 1);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await submit(key, 'judge', { n: 10 + i })).body.taskId);
    const done = await Promise.all(ids.map((id) => finished(key, id)));
    expect(done.map((t) => [t.status, t.agentId])).toEqual(ids.map(() => ['succeeded', 'good']));
    expect(seenByBad).toHaveLength(3);
    expect((await submit(key, 'chat', {}, true)).body).toMatchObject({ status: 'succeeded', agentId: 'bad' });
  });

  it("runs at most one task at once of a tenant whose ceiling is one, runs the rest afterwards, and does not hold up another tenant's", async () => {
    const limited = await tenantOnPlan(fleet.httpUrl, fleet.adminKey, 'pro', { limits: { maxConcurrent: 1 } });
    const { key: limitedKey } = await keyFor(fleet.httpUrl, fleet.adminKey, limited);
    const { key: otherKey, tenantId: other } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const spans = new Map<string, { tenantId: string; start: number; end?: number }>();
    const napper = defineAgent<{ ms: number }>({
      name: 'napper',
      capabilities: ['nap'],
      async handle(t) {
        const n = (running.get(t.tenantId) ?? 0) + 1;
        running.set(t.tenantId, n);
        peak.set(t.tenantId, Math.max(peak.get(t.tenantId) ?? 0, n));
        spans.set(t.taskId, { tenantId: t.tenantId, start: Date.now() });
        await pause(t.input.ms);
        spans.get(t.taskId)!.end = Date.now();
        running.set(t.tenantId, running.get(t.tenantId)! - 1);
        return { slept: t.input.ms };
      },
    });
    await run('nap-a', [napper]);
    await run('nap-b', [napper]);

    // The limited tenant's tasks are queued first: the other tenant's, behind them, must not wait for them.
    const limitedIds: string[] = [];
    for (let i = 0; i < 4; i++) limitedIds.push((await submit(limitedKey, 'nap', { ms: 300 })).body.taskId);
    const otherIds: string[] = [];
    for (let i = 0; i < 2; i++) otherIds.push((await submit(otherKey, 'nap', { ms: 50 })).body.taskId);
    const limitedDone = await Promise.all(limitedIds.map((id) => finished(limitedKey, id)));
    const otherDone = await Promise.all(otherIds.map((id) => finished(otherKey, id)));

    expect(limitedDone.map((t) => [t.status, t.attempts])).toEqual(limitedIds.map(() => ['succeeded', 1]));
    expect(otherDone.map((t) => t.status)).toEqual(['succeeded', 'succeeded']);
    expect(peak.get(limited)).toBe(1);
    // Both of the other tenant's tasks ended before the limited tenant's last one started.
    const lastLimitedStart = Math.max(...limitedIds.map((id) => spans.get(id)!.start));
    for (const id of otherIds) expect(spans.get(id)!.end!).toBeLessThan(lastLimitedStart);
    expect(spans.get(otherIds[0])!.tenantId).toBe(other);
  });
});

/** The fleet's gateway (the app that hosts the dispatcher): the one serving the fleet's HTTP API. */
async function gatewayOf(fleet: Fleet): Promise<INestApplication> {
  for (const app of fleet.apps) if ((await app.getUrl()).replace('[::1]', '127.0.0.1') === fleet.httpUrl) return app;
  throw new Error('no gateway in the fleet');
}
