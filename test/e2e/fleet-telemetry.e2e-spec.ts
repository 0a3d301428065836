/**
 * Fleet telemetry with real worker processes: a worker registers and beats; SIGKILLed while
 * it runs tasks (the task events name it, its beats count them in flight), it is announced down
 * exactly once, naming no tasks (heartbeats carry none; the control plane knows its leases);
 * a worker stopped with SIGTERM leaves without a down; the gateway serves the agent list,
 * overview and report with auth; the collector's fleet exposition is valid.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { type AgentLivenessEvent, type Heartbeat, names, type TaskEvent } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { collectMessages, eventually, waitForMessage } from '@sb/testing';
import { loadMetricsCollectorConfig } from '../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../apps/metrics-collector/src/metrics-collector.module';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';

jest.setTimeout(90_000);

describe('fleet telemetry', () => {
  let fleet: Fleet;
  let collectorUrl: string;
  afterAll(() => fleet?.stop());

  async function bootCollector(): Promise<INestApplication> {
    const config = loadMetricsCollectorConfig({ ...(await fleet.envFor('metrics-collector')), LIVENESS_SWEEP_MS: '50' });
    const { app } = await createServiceApp({ service: 'metrics-collector', config, module: (l) => metricsCollectorModule(config, l), logger: createLogger('metrics-collector', 'warn') });
    await app.listen(0, '127.0.0.1');
    fleet.apps.push(app);
    return app;
  }

  it('announces a killed worker down once while it runs tasks, naming none, and a stopped one as left', async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false });
    const n = names(fleet.prefix);
    collectorUrl = (await (await bootCollector()).getUrl()).replace('[::1]', '127.0.0.1');
    const liveness = collectMessages<AgentLivenessEvent>(fleet.nc, `${fleet.prefix}.v1.agents.*.*`, { filter: (m) => /\.(up|down|left)$/.test(m.subject) });
    await liveness.ready;
    const workerEnv = { AGENT_HEARTBEAT_MS: '250', AGENT_METRICS_MS: '300', WORKER_CONCURRENCY: '3', WORKER_LABELS: 'zone=e2e,pool=cpu' };

    const up = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.up('e2e-victim'), { timeoutMs: 20_000 });
    await up.ready;
    const victim = await fleet.spawnWorker({ ...workerEnv, WORKER_ID: 'e2e-victim' });
    expect((await up).data).toMatchObject({ reason: 'registered', labels: { zone: 'e2e', pool: 'cpu' }, capabilities: expect.arrayContaining(['sleep', 'echo']) });
    // A collector that lost its state asks; the worker registers again. The collector announces
    // `up` before it answers the registration, so an ask sent on seeing `up` can reach the worker
    // while that registration is still in flight, which answers it: ask until a new `up` comes.
    const again = await eventually(async () => {
      const next = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.up('e2e-victim'), { timeoutMs: 2_000 });
      await next.ready;
      fleet.nc.publish(n.fleetApi.reregister('e2e-victim'), JSON.stringify({ agentId: 'e2e-victim' }));
      return next.then((m) => m.data, () => false as const);
    }, { timeoutMs: 10_000 });
    expect(again).toMatchObject({ reason: 'registered', host: expect.any(String) });

    // What the victim runs, from trusted sources: the task events the control plane publishes
    // (`running`, naming the agent it leased each task to), and the victim's beats counting them in flight.
    const { key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const started = collectMessages<TaskEvent>(fleet.nc, n.tasks.eventsOfTenant(tenantId), { filter: (m) => m.data.status === 'running' && m.data.progress === undefined });
    await started.ready;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 30_000 }, timeoutMs: 60_000 } });
      expect(r.status).toBe(202);
      ids.push(r.body.taskId);
    }
    const running = await started.waitForCount(3, { timeoutMs: 20_000 });
    expect(running.map((m) => m.data.taskId).sort()).toEqual([...ids].sort());
    for (const m of running) expect(m.data).toMatchObject({ tenantId, capability: 'sleep', agentId: 'e2e-victim', attempts: 1 });
    const busy = await waitForMessage<Heartbeat>(fleet.nc, n.agents.heartbeat('e2e-victim'), { timeoutMs: 10_000, filter: (m) => m.data.inFlight === 3 });
    expect(busy.data).toMatchObject({ status: 'ready', inFlight: 3, capacity: 3 });
    expect(busy.data).not.toHaveProperty('tasks');

    const down = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.down('e2e-victim'), { timeoutMs: 10_000 });
    await down.ready;
    await victim.kill('SIGKILL');
    const ev = (await down).data;
    expect(ev).toMatchObject({ state: 'down', reason: 'missed_heartbeats', labels: { zone: 'e2e', pool: 'cpu' }, capabilities: expect.arrayContaining(['sleep']) });
    expect(ev).not.toHaveProperty('tasks');
    await started.stop();

    // A worker stopped gracefully leaves without a down; its down would have come long before its left.
    const left = waitForMessage<AgentLivenessEvent>(fleet.nc, n.agents.left('e2e-polite'), { timeoutMs: 20_000 });
    await left.ready;
    const polite = await fleet.spawnWorker({ ...workerEnv, WORKER_ID: 'e2e-polite' });
    await waitForMessage(fleet.nc, n.agents.heartbeat('e2e-polite'), { timeoutMs: 10_000 });
    await polite.kill('SIGTERM');
    expect((await left).data).toMatchObject({ reason: 'deregistered' });

    // Barrier: an agent registered now and never beating goes down after many sweeps.
    const sentinelDown = waitForMessage(fleet.nc, n.agents.down('e2e-sentinel'), { timeoutMs: 10_000 });
    await sentinelDown.ready;
    const sentinel = await natsRequest(fleet.nc, n.agents.register, { agentId: 'e2e-sentinel', capabilities: [], maxConcurrency: 1, heartbeatIntervalMs: 100 }, { key: fleet.agentKey, timeoutMs: 5_000 });
    expect(sentinel.errorCode).toBeUndefined();
    await sentinelDown;
    const seen = liveness.messages.map((m) => `${m.data.agentId}:${m.data.state}`);
    expect(seen.filter((s) => s === 'e2e-victim:down')).toHaveLength(1);
    expect(seen.filter((s) => s.startsWith('e2e-polite:'))).toEqual(['e2e-polite:up', 'e2e-polite:left']);
    await liveness.stop();
  });

  it('serves agents, overview and report to fleet:read or admin only', async () => {
    const anon = await http(fleet.httpUrl, 'GET', '/v1/agents');
    expect(anon.status).toBe(401);
    const { key: tasksOnly } = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:submit']);
    expect((await http(fleet.httpUrl, 'GET', '/v1/fleet/overview', { key: tasksOnly })).status).toBe(403);
    const reader = await operatorKey(fleet.httpUrl, fleet.adminKey, ['fleet:read']);

    const agents = await http(fleet.httpUrl, 'GET', '/v1/agents', { key: reader });
    expect(agents.status).toBe(200);
    expect(agents.body).toMatchObject({ total: 3, next: null });
    const byId = Object.fromEntries((agents.body.agents as Array<{ agentId: string; status: string }>).map((a) => [a.agentId, a]));
    expect(byId['e2e-victim']).toMatchObject({ status: 'down', labels: { zone: 'e2e', pool: 'cpu' }, maxConcurrency: 3, flaps: 1 });
    expect(byId['e2e-polite']).toMatchObject({ status: 'left' });
    expect((await http(fleet.httpUrl, 'GET', '/v1/agents?status=down', { key: fleet.adminKey })).body.agents.map((a: { status: string }) => a.status)).toEqual(['down', 'down']);
    expect((await http(fleet.httpUrl, 'GET', '/v1/agents?limit=1', { key: reader })).body).toMatchObject({ agents: [{ agentId: 'e2e-polite' }], next: 'e2e-polite', total: 3 });
    expect((await http(fleet.httpUrl, 'GET', '/v1/agents?status=sideways', { key: reader })).status).toBe(400);

    const overview = await http(fleet.httpUrl, 'GET', '/v1/fleet/overview', { key: reader });
    expect(overview.status).toBe(200);
    expect(overview.body).toMatchObject({ agents: { total: 3, byStatus: { up: 0, down: 2, left: 1 } }, alerts: { bySeverity: { critical: expect.any(Number) } } });

    const report = await http(fleet.httpUrl, 'GET', '/v1/fleet/report?hours=2', { key: fleet.adminKey });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ hours: 2, agentsOmitted: 0, recommendations: expect.arrayContaining([expect.stringContaining('Agent e2e-victim is down')]) });
    expect(report.body.agents.find((a: { agentId: string }) => a.agentId === 'e2e-victim')).toMatchObject({ status: 'down', healthScore: expect.any(Number) });
    for (const bad of ['0', '169', 'x']) expect((await http(fleet.httpUrl, 'GET', `/v1/fleet/report?hours=${bad}`, { key: reader })).status).toBe(400);
  });

  it('exposes the workers\' metrics fleet-wide, agent-labelled and in valid exposition format', async () => {
    const res = await fetch(`${collectorUrl}/metrics/fleet`);
    const text = await res.text();
    expect(text).toMatch(/^sb_agent_in_flight\{agent="e2e-victim"\} \d+$/m);
    expect(text).toMatch(/^# TYPE sb_agent_cpu_percent gauge$/m);
    if (existsSync('/usr/bin/promtool')) {
      const check = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
    }
  });
});
