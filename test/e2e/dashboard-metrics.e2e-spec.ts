/**
 * The Grafana dashboards and the Prometheus alert rules read only series the services really
 * export. A fleet with the collector, alerting and recovery runs real work first: an agent
 * registers and heartbeats, a task runs, a notification is delivered to a webhook receiver, and
 * an agent process running a task is SIGKILLed (down → AgentDown alert; no other agent serves
 * the task's capability, so it still runs under the dead agent's lease after recovery's verify
 * delay and recovery requeues it from its record). Then /metrics of the gateway, a worker, the collector, alerting and recovery, and the
 * collector's /metrics/fleet, are scraped, and every metric name the dashboards and rules
 * reference is looked up. `up` and `ALERTS` are made by Prometheus itself, so they are the only
 * names allowed without a scrape. Needs `npm run build` (the killed agent is a real process).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { type AlertEvent, type Heartbeat, names, type TaskEvent } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { eventually, waitForMessage } from '@sb/testing';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import { loadMetricsCollectorConfig } from '../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../apps/metrics-collector/src/metrics-collector.module';
import { allDashboards } from '../../tools/manifests/dashboards.builder';
import { alertRuleGroups } from '../../tools/manifests/alert-rules.builder';
import { parseFleetSpec } from '../../tools/manifests/fleet-spec.loader';
import { exposedNames, expressionsIn, metricNamesIn } from '../../tools/manifests/promql-metrics';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { startRecovery } from './support/resilience-recovery';

jest.setTimeout(120_000);

const PROMETHEUS_OWN = new Set(['up', 'ALERTS']);
const TELEMETRY = { AGENT_HEARTBEAT_MS: '250', AGENT_METRICS_MS: '300' };

const urlOf = async (app: INestApplication) => (await app.getUrl()).replace('[::1]', '127.0.0.1');
const scrape = async (url: string) => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
};

describe('dashboards and alert rules against live scrapes of every service', () => {
  let fleet: Fleet;
  let receiver: Server | undefined;
  let exposed: Set<string>;
  const scrapes: Record<string, string> = {};

  async function boot(service: string, module: (l: ReturnType<typeof createLogger>) => DynamicModule): Promise<string> {
    const { app } = await createServiceApp({ service, config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 }, module, logger: createLogger(service, 'warn') });
    await app.listen(0, '127.0.0.1');
    fleet.apps.push(app);
    return urlOf(app);
  }

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false, workerEnv: { WORKER_AGENTS: 'echo', ...TELEMETRY } });
    const n = names(fleet.prefix);
    const collectorEnv = await fleet.envFor('metrics-collector');
    const alertingEnv = await fleet.envFor('alerting');
    const collectorUrl = await boot('metrics-collector', (l) => metricsCollectorModule(loadMetricsCollectorConfig({ ...collectorEnv, LIVENESS_SWEEP_MS: '50', FLEET_SAMPLES_MS: '500' }), l));
    const alertingUrl = await boot('alerting', (l) => alertingModule(loadAlertingConfig({ ...alertingEnv, ALERTING_TICK_MS: '200', NOTIFY_BACKOFF_BASE_MS: '100', ALERTING_WEBHOOK_ALLOW: '127.0.0.1' }), l));
    const recoveryUrl = await urlOf(await startRecovery(fleet, {}));

    // An agent registers and heartbeats, then runs a task.
    const up = waitForMessage(fleet.nc, n.agents.up('dash-agent'), { timeoutMs: 20_000 });
    await up.ready;
    const workerUrl = await urlOf(await fleet.startWorker({ WORKER_ID: 'dash-agent' }));
    await up;
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const done = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 'metrics', wait: true } });
    expect(done.body).toMatchObject({ status: 'succeeded', agentId: 'dash-agent' });

    // A notification reaches a webhook receiver (delivery outcome and latency series).
    let delivered!: () => void;
    const received = new Promise<void>((r) => (delivered = r));
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200).end('ok');
        delivered();
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const channel = await http(fleet.httpUrl, 'POST', '/v1/notification-channels', { key: fleet.adminKey, body: { type: 'webhook', name: 'dashboards', url: hook } });
    expect(channel.status).toBe(201);
    expect((await http(fleet.httpUrl, 'POST', `/v1/notification-channels/${channel.body.id}/test`, { key: fleet.adminKey })).status).toBeLessThan(300);
    await received;

    // An agent process dies running a task: the collector declares it down, alerting fires
    // AgentDown, recovery requeues the task from its record (reclaim series). That it runs the
    // task is known from trusted sources: the task event naming it, and its beats counting it.
    const victimUp = waitForMessage(fleet.nc, n.agents.up('dash-victim'), { timeoutMs: 20_000 });
    await victimUp.ready;
    const victim = await fleet.spawnWorker({ ...TELEMETRY, WORKER_ID: 'dash-victim', WORKER_AGENTS: 'sleep' });
    await victimUp;
    const started = waitForMessage<TaskEvent>(fleet.nc, n.tasks.eventsWithStatus('running'), { timeoutMs: 20_000, filter: (m) => m.data.capability === 'sleep' });
    await started.ready;
    const sleeping = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 60_000 }, timeoutMs: 90_000 } });
    expect(sleeping.status).toBe(202);
    expect((await started).data).toMatchObject({ taskId: sleeping.body.taskId, agentId: 'dash-victim' });
    await waitForMessage<Heartbeat>(fleet.nc, n.agents.heartbeat('dash-victim'), { timeoutMs: 10_000, filter: (m) => m.data.inFlight === 1 });
    const firing = waitForMessage<AlertEvent>(fleet.nc, n.alerts.event('critical', 'firing'), { timeoutMs: 20_000, filter: (m) => m.data.labels.agent === 'dash-victim' });
    await firing.ready;
    await victim.kill('SIGKILL');
    expect((await firing).data).toMatchObject({ name: 'AgentDown' });
    await eventually(async () => (await scrape(`${recoveryUrl}/metrics`)).includes('sb_recovery_reclaim_seconds_bucket{'), { timeoutMs: 20_000, description: 'recovery observed the reclaim' });
    // The agents' metric batches reached the collector (per-agent series on /metrics/fleet).
    await eventually(async () => /^sb_agent_tasks_total\{[^}]*agent="dash-agent"/m.test(await scrape(`${collectorUrl}/metrics/fleet`)), { timeoutMs: 20_000, description: "dash-agent's task counter on /metrics/fleet" });

    const targets: Record<string, string> = {
      gateway: `${fleet.opsUrl}/metrics`,
      worker: `${workerUrl}/metrics`,
      collector: `${collectorUrl}/metrics`,
      fleet: `${collectorUrl}/metrics/fleet`,
      alerting: `${alertingUrl}/metrics`,
      recovery: `${recoveryUrl}/metrics`,
    };
    for (const [name, url] of Object.entries(targets)) scrapes[name] = await scrape(url);
    exposed = new Set(Object.values(scrapes).flatMap((s) => [...exposedNames(s)]));
  });
  afterAll(async () => {
    await fleet?.stop();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  });

  const missingFrom = (exprs: string[]) => [...new Set(exprs.flatMap(metricNamesIn))].filter((n) => !PROMETHEUS_OWN.has(n) && !exposed.has(n));
  const samplesOf = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

  it('the scrapes carry the series of the work that ran, not just their declarations', () => {
    expect(samplesOf(scrapes.worker, 'sb_worker_tasks_total').join('\n')).toMatch(/capability="echo".*outcome="succeeded"/);
    expect(samplesOf(scrapes.worker, 'sb_worker_task_duration_seconds_bucket').length).toBeGreaterThan(0);
    expect(samplesOf(scrapes.gateway, 'sb_request_duration_seconds_bucket').length).toBeGreaterThan(0);
    for (const m of ['sb_agent_cpu_percent', 'sb_agent_memory_percent', 'sb_agent_in_flight', 'sb_agent_capacity', 'sb_agent_task_duration_seconds_bucket']) {
      expect(samplesOf(scrapes.fleet, m).join('\n')).toContain('agent="dash-agent"');
    }
    expect(samplesOf(scrapes.collector, 'sb_collector_heartbeats_total').join('\n')).toContain('verdict="accepted"');
    expect(samplesOf(scrapes.collector, 'sb_collector_liveness_events_total').join('\n')).toContain('state="down"');
    expect(samplesOf(scrapes.alerting, 'sb_notifications_total').join('\n')).toMatch(/channel_type="webhook".*outcome="delivered"/);
    expect(samplesOf(scrapes.alerting, 'sb_notification_delivery_duration_seconds_bucket').length).toBeGreaterThan(0);
    expect(samplesOf(scrapes.alerting, 'sb_alerting_outputs_total').join('\n')).toMatch(/what="event".*kind="firing"|kind="firing".*what="event"/);
    expect(samplesOf(scrapes.recovery, 'sb_recovery_leader')).toEqual([expect.stringMatching(/ 1$/)]);
    expect(samplesOf(scrapes.recovery, 'sb_recovery_reclaimed_tasks_total')).toEqual([expect.stringMatching(/how="requeue".* 1$/)]);
  });

  it.each(allDashboards().map(([file, d]) => [file, d] as const))('%s references only exported metrics', (_file, dashboard) => {
    const exprs = expressionsIn(dashboard);
    expect(exprs.length).toBeGreaterThan(3);
    expect(missingFrom(exprs)).toEqual([]);
  });

  it('the alert rules reference only exported metrics', () => {
    const spec = parseFleetSpec(readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8'));
    const exprs = alertRuleGroups(spec).flatMap((g) => g.rules.map((r) => r.expr));
    expect(missingFrom(exprs)).toEqual([]);
  });

  it('would catch a dashboard reading a metric nobody exports', () => {
    expect(missingFrom(['sum(rate(sb_not_exported_total[5m]))', 'max by (agent) (sb_agent_in_flight)'])).toEqual(['sb_not_exported_total']);
  });
});
