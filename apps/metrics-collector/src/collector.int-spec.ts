/**
 * The collector against real NATS and Redis, with agents that beat every 200 ms (down after
 * 500 ms): registration, liveness, departure, two replicas, bad payloads, metric ingestion,
 * overview and report. "Exactly one" is checked against a later event as a barrier: a second
 * agent that falls silent afterwards, so many sweeps of every replica have run in between.
 * Agents register with the bootstrap agent key of a real auth service and send their session
 * on everything after (agent protocol v1).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { AGENT_SESSION_HEADER, type AgentLivenessEvent, generateApiKey, type FleetAgentPage, type FleetOverview, type FleetReport, type Heartbeat, type MetricBatch, names, type RegistrationReply } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { cleanupJetStream, collectMessages, eventually, type ServerHandle, startRedisServer, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { authModule } from '../../auth/src/auth.module';
import { loadAuthConfig } from '../../auth/src/config';
import { loadMetricsCollectorConfig } from './config';
import { metricsCollectorModule } from './metrics-collector.module';

const INTERVAL = 200;
const AGENT_KEY = generateApiKey();
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
jest.setTimeout(30_000);

/** Auth on the prefix, with the bootstrap agent key the fake agents register with. */
async function bootAuth(prefix: string): Promise<INestApplication> {
  const config = loadAuthConfig({ NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent', SB_BOOTSTRAP_ADMIN_KEY: generateApiKey(), SB_BOOTSTRAP_AGENT_KEY: AGENT_KEY, SB_KEK: randomBytes(32).toString('base64') });
  const { app } = await createServiceApp({ service: 'auth', config: { ...config, HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' }, module: (l) => authModule(config, l), logger: createLogger('auth', 'silent') });
  await app.init();
  return app;
}

async function bootCollector(prefix: string, redisUrl = testEnv().redisUrl): Promise<{ app: INestApplication; url: string }> {
  const env = { NATS_URL: testEnv().natsUrl, REDIS_URL: redisUrl, SB_PREFIX: prefix, LOG_LEVEL: 'silent', LIVENESS_SWEEP_MS: '50', LIVENESS_FLUSH_MS: '20', FLEET_SAMPLES_MS: '200', COLLECTOR_MAX_SERIES_PER_AGENT: '5' };
  const config = loadMetricsCollectorConfig(env);
  const { app } = await createServiceApp({ service: 'metrics-collector', config: { ...config, HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' }, module: (l) => metricsCollectorModule(config, l), logger: createLogger('metrics-collector', 'silent') });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

class FakeAgent {
  private seq = 0;
  private timer?: NodeJS.Timeout;
  inFlight = 0;
  /** Held tasks as agents listed them before protocol v1 (sent as `tasks`, which the collector ignores). */
  legacyTasks?: unknown[];
  session?: string;
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    readonly id: string,
  ) {}
  async register(): Promise<RegistrationReply> {
    const reg = { agentId: this.id, capabilities: ['echo'], version: '1', maxConcurrency: 2, host: 'h1', labels: { zone: 'a' }, heartbeatIntervalMs: INTERVAL };
    const h = this.headers();
    h.set('Authorization', `Bearer ${AGENT_KEY}`);
    const r = await this.nc.request(names(this.prefix).agents.register, JSON.stringify(reg), { timeout: 5_000, headers: h });
    const reply = r.json<RegistrationReply>();
    this.session = reply.session;
    return reply;
  }
  /** What the agent publishes carries its session. */
  headers() {
    const h = natsHeaders();
    if (this.session) h.set(AGENT_SESSION_HEADER, this.session);
    return h;
  }
  beat(): void {
    const hb: Heartbeat = { agentId: this.id, seq: this.seq++, status: 'ready', inFlight: this.inFlight, capacity: 2, cpuPercent: 20, memoryPercent: 30 };
    const body = this.legacyTasks ? { ...hb, tasks: this.legacyTasks } : hb;
    this.nc.publish(names(this.prefix).agents.heartbeat(this.id), JSON.stringify(body), { headers: this.headers() });
  }
  start(): this {
    this.beat();
    this.timer = setInterval(() => this.beat(), INTERVAL);
    return this;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

describe('metrics-collector', () => {
  let nc: NatsConnection;
  const apps: INestApplication[] = [];
  const agents: FakeAgent[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterEach(() => {
    for (const a of agents.splice(0)) a.stop();
  });
  afterAll(async () => {
    for (const a of apps) await a.close().catch(() => undefined);
    for (const p of prefixes) await cleanupJetStream(nc, p);
    await nc.drain();
  });

  async function fleet(replicas = 1, redisUrl?: string) {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    apps.push(await bootAuth(prefix));
    const booted = [];
    for (let i = 0; i < replicas; i++) {
      const b = await bootCollector(prefix, redisUrl);
      apps.push(b.app);
      booted.push(b);
    }
    const agent = (id: string) => {
      const a = new FakeAgent(nc, prefix, id);
      agents.push(a);
      return a;
    };
    const request = async <T>(subject: string, body: unknown = {}) => (await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).json<T>();
    return { prefix, n: names(prefix), url: booted[0].url, agent, request };
  }

  it('announces up on registration, keeps a beating agent up, and announces one down naming no tasks', async () => {
    const f = await fleet();
    const events = collectMessages<AgentLivenessEvent>(nc, `${f.prefix}.v1.agents.*.*`, { filter: (m) => !m.subject.includes('.heartbeat.') && !m.subject.includes('.metrics.') });
    await events.ready;
    const busy = f.agent('busy-1');
    busy.inFlight = 1;
    // An agent of before protocol v1 still lists what it holds, with ack subjects: not refused for it, and not believed.
    busy.legacyTasks = [{ taskId: 'tk1', tenantId: 'tn1', capability: 'echo', priority: 'normal', attempt: 1, ackSubject: '$JS.ACK.X.Y.1.2.3.4.0' }];
    expect(await busy.register()).toMatchObject({ agentId: 'busy-1', registered: true, downAfterMs: 500, session: expect.any(String) });
    busy.start();
    await events.waitForCount(1);
    expect(events.messages[0]).toMatchObject({ subject: f.n.agents.up('busy-1'), data: { state: 'up', reason: 'registered', host: 'h1', labels: { zone: 'a' } } });
    // Alive for 10 intervals (4 down thresholds) while "running" a task: its beats are applied.
    await eventually(async () => (await f.request<FleetAgentPage>(f.n.fleetApi.agents)).agents[0]?.inFlight === 1);
    const beatsBefore = busy['seq'];
    await eventually(() => busy['seq'] >= beatsBefore + 10, { timeoutMs: 5_000 });
    expect(events.messages.filter((m) => m.data.state === 'down')).toHaveLength(0);

    busy.stop();
    const down = await waitForMessage<AgentLivenessEvent>(nc, f.n.agents.down('busy-1'), { timeoutMs: 5_000 });
    expect(down.data).toMatchObject({ agentId: 'busy-1', state: 'down', reason: 'missed_heartbeats', capabilities: ['echo'] });
    expect(down.data).not.toHaveProperty('tasks');
    // Never early: at least the threshold after the last beat.
    expect(Date.parse(down.data.at) - Date.parse(down.data.lastHeartbeatAt!)).toBeGreaterThanOrEqual(500);

    const sentinel = f.agent('sentinel-1');
    await sentinel.register();
    await waitForMessage(nc, f.n.agents.down('sentinel-1'), { timeoutMs: 5_000 });
    expect(events.messages.filter((m) => m.data.state === 'down' && m.data.agentId === 'busy-1')).toHaveLength(1);
    const listed = await f.request<FleetAgentPage>(f.n.fleetApi.agents, { status: 'down' });
    expect(listed.agents.map((a) => a.agentId)).toEqual(['busy-1', 'sentinel-1']);
    expect(listed.agents[0]).toMatchObject({ status: 'down', flaps: 1, host: 'h1', inFlight: 0 });
    const page = await f.request<FleetAgentPage>(f.n.fleetApi.agents, { limit: 1 });
    expect(page).toMatchObject({ agents: [{ agentId: 'busy-1' }], next: 'busy-1', total: 2 });
    expect(await f.request<FleetAgentPage>(f.n.fleetApi.agents, { limit: 1, after: page.next })).toMatchObject({ agents: [{ agentId: 'sentinel-1' }], next: null });
    await events.stop();
  });

  it('deregistration announces left and never down', async () => {
    const f = await fleet();
    const downs = collectMessages(nc, f.n.agents.livenessOf('down'));
    await downs.ready;
    const a = f.agent('leaver-1');
    await a.register();
    a.start();
    const left = waitForMessage<AgentLivenessEvent>(nc, f.n.agents.left('leaver-1'), { timeoutMs: 5_000 });
    await left.ready;
    a.stop();
    nc.publish(f.n.agents.deregister, JSON.stringify({ agentId: 'leaver-1', reason: 'shutdown' }), { headers: a.headers() });
    expect((await left).data).toMatchObject({ state: 'left', reason: 'deregistered' });
    const sentinel = f.agent('sentinel-2');
    await sentinel.register();
    await waitForMessage(nc, f.n.agents.down('sentinel-2'), { timeoutMs: 5_000 });
    expect(downs.messages.map((m) => m.subject)).toEqual([f.n.agents.down('sentinel-2')]);
    await downs.stop();
  });

  it('with two collector replicas, a silent agent is announced down exactly once', async () => {
    const f = await fleet(2);
    const downs = collectMessages<AgentLivenessEvent>(nc, f.n.agents.livenessOf('down'));
    await downs.ready;
    const a = f.agent('twin-1');
    await a.register();
    a.start();
    await eventually(() => a['seq'] >= 5, { timeoutMs: 5_000 });
    a.stop();
    await downs.waitForCount(1);
    const sentinel = f.agent('sentinel-3');
    await sentinel.register();
    await waitForMessage(nc, f.n.agents.down('sentinel-3'), { timeoutMs: 5_000 });
    expect(downs.messages.map((m) => m.data.agentId)).toEqual(['twin-1', 'sentinel-3']);
    await downs.stop();
  });

  it('drops and counts bad heartbeats and metric batches, serves the rest, and stays up', async () => {
    const f = await fleet();
    const a = f.agent('metrics-1');
    await a.register();
    a.start();
    const headers = a.headers();
    nc.publish(f.n.agents.heartbeat('metrics-1'), 'not json', { headers });
    nc.publish(f.n.agents.heartbeat('metrics-1'), JSON.stringify({ agentId: 'someone-else', seq: 1, inFlight: 0, capacity: 1 }), { headers });
    nc.publish(f.n.agents.metrics('metrics-1'), '{"agentId":"metrics-1","samples":[{"type":"gauge","name":"bad name","value":1}]}', { headers });
    const gauges = Array.from({ length: 7 }, (_, i) => ({ type: 'gauge', name: 'queue_depth', labels: { q: `q${i}`, note: 'say "hi"\n' }, value: i }));
    nc.publish(f.n.agents.metrics('metrics-1'), JSON.stringify({ agentId: 'metrics-1', samples: [{ type: 'histogram', name: 'job_seconds', labels: {}, buckets: [{ le: 0.5, count: 1 }, { le: 1, count: 3 }], sum: 2, count: 4 }, ...gauges] }), { headers });
    // Without the session: dropped and counted.
    nc.publish(f.n.agents.metrics('metrics-1'), JSON.stringify({ agentId: 'metrics-1', samples: gauges.slice(0, 1) }));
    const own = await eventually(async () => {
      const text = await (await fetch(`${f.url}/metrics`)).text();
      const refused = 'sb_collector_agent_messages_refused_total{kind="metrics",reason="no_session",service="metrics-collector"} 1';
      return text.includes('sb_collector_samples_dropped_total{reason="cardinality",service="metrics-collector"} 3') && text.includes(refused) && text;
    });
    expect(own).toContain('sb_collector_heartbeats_total{verdict="invalid",service="metrics-collector"} 1');
    expect(own).toContain('sb_collector_heartbeats_total{verdict="mismatch",service="metrics-collector"} 1');
    expect(own).toContain('sb_collector_samples_dropped_total{reason="invalid",service="metrics-collector"} 1');
    // RED per subscription, labelled with its wildcard subject (bounded), never with one agent's subject.
    for (const endpoint of [f.n.agents.heartbeatAll, f.n.agents.metricsAll]) {
      expect(own).toMatch(new RegExp(`sb_requests_total\\{[^}]*endpoint="${escapeRegExp(endpoint)}"[^}]*outcome="ok"`));
    }
    expect(own).not.toContain(`endpoint="${f.n.agents.heartbeat('metrics-1')}"`);
    const res = await fetch(`${f.url}/metrics/fleet`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('queue_depth{agent="metrics-1",note="say \\"hi\\"\\n",q="q0"} 0');
    expect(text).toContain('job_seconds_bucket{agent="metrics-1",le="+Inf"} 4');
    if (existsSync('/usr/bin/promtool')) {
      const check = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
    }
    const overview = await f.request<FleetOverview>(f.n.fleetApi.overview);
    expect(overview.agents).toMatchObject({ total: 1, byStatus: { up: 1, down: 0, left: 0 } });
    expect(overview.metrics).toMatchObject({ agentsReporting: 1, series: 5 });
    const report = await f.request<FleetReport>(f.n.fleetApi.report, { hours: 2 });
    expect(report).toMatchObject({ hours: 2, agents: [{ agentId: 'metrics-1', status: 'up', cpuPercent: { avg: 20 }, healthScore: 100 }] });
    const bad = await nc.request(f.n.fleetApi.report, JSON.stringify({ hours: 500 }), { timeout: 5_000 });
    expect(bad.headers?.get('Nats-Service-Error-Code')).toBe('400');
  });

  it('forwards the samples it accepted on fleet.validatedMetrics (alerting\'s only source), refusing reserved sb_fleet_* names', async () => {
    const f = await fleet();
    const a = f.agent('fwd-1');
    await a.register();
    const forwarded = collectMessages<MetricBatch>(nc, f.n.fleet.validatedMetrics);
    await forwarded.ready;
    const gauges = Array.from({ length: 6 }, (_, i) => ({ type: 'gauge', name: 'queue_depth', labels: { q: `q${i}` }, value: i }));
    const forged = { type: 'gauge', name: 'sb_fleet_task_error_ratio', labels: { capability: 'echo' }, value: 1 };
    // Without the session, then as another agent's id: neither is forwarded.
    nc.publish(f.n.agents.metrics('fwd-1'), JSON.stringify({ agentId: 'fwd-1', samples: gauges }));
    nc.publish(f.n.agents.metrics('fwd-2'), JSON.stringify({ agentId: 'fwd-2', samples: gauges }), { headers: a.headers() });
    nc.publish(f.n.agents.metrics('fwd-1'), JSON.stringify({ agentId: 'fwd-1', sentAt: 7, samples: [forged, ...gauges] }), { headers: a.headers() });
    const [first] = await forwarded.waitForCount(1);
    // The per-agent ceiling is 5 here: the sixth series and the reserved name were refused.
    expect(first.data).toEqual({ agentId: 'fwd-1', sentAt: 7, samples: gauges.slice(0, 5) });
    const own = await eventually(async () => {
      const text = await (await fetch(`${f.url}/metrics`)).text();
      return text.includes('sb_collector_samples_dropped_total{reason="reserved_name",service="metrics-collector"} 1') && text;
    });
    expect(own).toContain('sb_collector_samples_dropped_total{reason="cardinality",service="metrics-collector"} 1');
    expect(forwarded.messages).toHaveLength(1);
    await forwarded.stop();
  });

  it('a restarted collector knows the fleet and its sessions from its snapshot, and asks agents it does not know to register', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const n = names(prefix);
    apps.push(await bootAuth(prefix));
    const first = await bootCollector(prefix);
    const a = new FakeAgent(nc, prefix, 'survivor-1');
    agents.push(a);
    await a.register();
    a.start();
    await eventually(() => a['seq'] >= 3, { timeoutMs: 5_000 });
    await first.app.close();
    const second = await bootCollector(prefix);
    apps.push(second.app);
    const ask = waitForMessage(nc, n.fleetApi.reregister('stranger-1'), { timeoutMs: 5_000 });
    await ask.ready;
    new FakeAgent(nc, prefix, 'stranger-1').beat();
    expect((await ask).data).toEqual({ agentId: 'stranger-1' });
    const down = waitForMessage<AgentLivenessEvent>(nc, n.agents.down('survivor-1'), { timeoutMs: 5_000 });
    await down.ready;
    await eventually(() => a['seq'] >= 10, { timeoutMs: 5_000 }); // still alive under the new collector
    a.stop();
    expect((await down).data).toMatchObject({ host: 'h1', labels: { zone: 'a' }, capabilities: ['echo'] });
  });

  describe('when Redis stops answering and comes back', () => {
    let redis: ServerHandle;
    afterAll(async () => {
      if (redis && !redis.running) await redis.restart().catch(() => undefined);
      await redis?.destroy();
    });

    it('goes not-ready, declares no one down for the outage, then detects an agent that died meanwhile', async () => {
      redis = await startRedisServer();
      const f = await fleet(1, redis.url);
      const downs = collectMessages<AgentLivenessEvent>(nc, f.n.agents.livenessOf('down'));
      await downs.ready;
      const alive = [f.agent('steady-1'), f.agent('steady-2')];
      const doomed = f.agent('doomed-1');
      for (const a of [...alive, doomed]) {
        await a.register();
        a.start();
      }
      await eventually(() => doomed['seq'] >= 3, { timeoutMs: 5_000 });
      redis.kill('SIGSTOP'); // frozen with its data: every deadline in it expires meanwhile
      try {
        await eventually(async () => (await fetch(`${f.url}/health/ready`)).status === 503, { timeoutMs: 10_000 });
        doomed.stop();
        await eventually(() => alive[0]['seq'] >= doomed['seq'] + 10, { timeoutMs: 10_000 });
      } finally {
        redis.kill('SIGCONT');
      }
      await eventually(async () => (await fetch(`${f.url}/health/ready`)).status === 200, { timeoutMs: 10_000 });
      await downs.waitForCount(1, { timeoutMs: 10_000 });
      const sentinel = f.agent('sentinel-4');
      await sentinel.register();
      await waitForMessage(nc, f.n.agents.down('sentinel-4'), { timeoutMs: 5_000 });
      expect(downs.messages.map((m) => m.data.agentId)).toEqual(['doomed-1', 'sentinel-4']);
      await downs.stop();
    });
  });
});
