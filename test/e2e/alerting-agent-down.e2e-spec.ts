/**
 * A killed agent produces exactly one down alert: real worker processes, the real collector and
 * the real alerting service (default rules). SIGKILL → one AgentDown firing event (stored in
 * the alerts stream); SIGTERM (graceful leave) → no alert at all; the agent coming back resolves it.
 */
import type { INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { type AlertEvent, names } from '@sb/contracts';
import { createLogger, createServiceApp } from '@sb/observability';
import { collectMessages, waitForMessage } from '@sb/testing';
import { alertingModule } from '../../apps/alerting/src/alerting.module';
import { loadAlertingConfig } from '../../apps/alerting/src/config';
import { loadMetricsCollectorConfig } from '../../apps/metrics-collector/src/config';
import { metricsCollectorModule } from '../../apps/metrics-collector/src/metrics-collector.module';
import { type Fleet, startFleet } from './support/fleet';

jest.setTimeout(90_000);

describe('agent down → alert', () => {
  let fleet: Fleet;
  afterAll(() => fleet?.stop());

  async function boot(service: string, module: (l: ReturnType<typeof createLogger>) => import('@nestjs/common').DynamicModule): Promise<INestApplication> {
    const { app } = await createServiceApp({ service, config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 2_000 }, module, logger: createLogger(service, 'warn') });
    await app.init();
    fleet.apps.push(app);
    return app;
  }

  it('raises exactly one AgentDown for a killed worker, none for a graceful leave, and resolves on return', async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false });
    const n = names(fleet.prefix);
    const collectorEnv = await fleet.envFor('metrics-collector');
    const alertingEnv = await fleet.envFor('alerting');
    await boot('metrics-collector', (l) => metricsCollectorModule(loadMetricsCollectorConfig({ ...collectorEnv, LIVENESS_SWEEP_MS: '50' }), l));
    await boot('alerting', (l) => alertingModule(loadAlertingConfig({ ...alertingEnv, ALERTING_TICK_MS: '200' }), l));
    const alerts = collectMessages<AlertEvent>(fleet.nc, n.alerts.all, { filter: (m) => m.data.name === 'AgentDown' });
    await alerts.ready;
    const workerEnv = { AGENT_HEARTBEAT_MS: '250', AGENT_METRICS_MS: '300', WORKER_CONCURRENCY: '2' };

    const up = waitForMessage(fleet.nc, n.agents.up('e2e-victim'), { timeoutMs: 20_000 });
    await up.ready;
    const victim = await fleet.spawnWorker({ ...workerEnv, WORKER_ID: 'e2e-victim' });
    await up;
    const firing = waitForMessage<AlertEvent>(fleet.nc, n.alerts.event('critical', 'firing'), { timeoutMs: 10_000, filter: (m) => m.data.labels.agent === 'e2e-victim' });
    await firing.ready;
    await victim.kill('SIGKILL');
    expect((await firing).data).toMatchObject({ name: 'AgentDown', severity: 'critical', state: 'firing', labels: { agent: 'e2e-victim', alertname: 'AgentDown' }, source: 'default-agent-down' });

    // Graceful leave: the worker deregisters; no alert, ever.
    const left = waitForMessage(fleet.nc, n.agents.left('e2e-polite'), { timeoutMs: 20_000 });
    await left.ready;
    const polite = await fleet.spawnWorker({ ...workerEnv, WORKER_ID: 'e2e-polite' });
    await waitForMessage(fleet.nc, n.agents.heartbeat('e2e-polite'), { timeoutMs: 10_000 });
    await polite.kill('SIGTERM');
    await left;

    // The victim comes back (same id): its alert resolves. Also the barrier for "nothing else happened".
    const resolved = waitForMessage<AlertEvent>(fleet.nc, n.alerts.event('critical', 'resolved'), { timeoutMs: 20_000, filter: (m) => m.data.labels.agent === 'e2e-victim' });
    await resolved.ready;
    const back = await fleet.spawnWorker({ ...workerEnv, WORKER_ID: 'e2e-victim' });
    await resolved;
    await back.kill('SIGTERM');

    const seen = alerts.messages.map((m) => `${m.data.labels.agent}:${m.data.state}`);
    expect(seen).toEqual(['e2e-victim:firing', 'e2e-victim:resolved']);
    const stream = await (await jetstreamManager(fleet.nc)).streams.info(n.alerting.stream);
    expect(stream.state.messages).toBe(2);
    await alerts.stop();
  });
});
