/**
 * Mass failure (issue 12, "Done means"): 2,000 agents, registered over the real agent protocol
 * (support/simulated-agents.ts: plain NATS messages as the SDK sends them, with the fleet's agent
 * key), stop heartbeating at the same moment. Alerting and recovery run as their built processes
 * (support/built-service.ts) on servers of this test's own, so the memory they use is theirs. Then:
 *  1. the AgentDown alerts come out grouped: one group, a few notifications, not a page per agent;
 *  2. no alert transition fails (`sb_alerting_transition_failures_total` stays 0, and no
 *     "alert transition failed" line is logged);
 *  3. alerting and recovery stay under 300 MB resident (VmRSS, sampled every 100 ms all along).
 *     They run with V8's young generation at 16 MiB semi-spaces (MF_NODE_OPTIONS overrides): V8
 *     sizes it from the memory it may use, which in production is the pods' 256 MiB limit (a far
 *     smaller young generation) and here is the whole host (3 × 32 MiB on a large one), whose
 *     headroom would otherwise be measured instead of the services.
 * Every agent is on a host of its own, as pods are (the SDK reports os.hostname()), so the
 * per-host HostDown alert cannot fold them: the grouping has to. The test ends once recovery has
 * finished every agent's reclaim (its action log) and handled every alert event.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type AlertEvent, type AlertNotification, names } from '@sb/contracts';
import { collectMessages, eventually, findFreePort, type ServerHandle, startNatsServer, startRedisServer } from '@sb/testing';
import { type Fleet, startFleet } from '../e2e/support/fleet';
import { type BuiltService, startBuiltService } from './support/built-service';
import { metricSum, PeakRss } from './support/process-probes';
import { SimulatedAgents } from './support/simulated-agents';

jest.setTimeout(300_000);

const AGENTS = 2_000;
const RSS_LIMIT_MIB = 300;
/** The channel every alert goes to (ALERTING_DEFAULT_CHANNEL_IDS): each notification in the outbox is a page. */
const PAGER = 'mass-failure-pager';

describe('mass failure: 2,000 agents stop at once', () => {
  let nats: ServerHandle | undefined;
  let redis: ServerHandle | undefined;
  let fleet: Fleet | undefined;
  let agentsNc: NatsConnection | undefined;
  let agents: SimulatedAgents | undefined;
  let peak: PeakRss | undefined;
  const services: BuiltService[] = [];
  /** The services' logs (kept with CHAOS_DEBUG). */
  const logs = mkdtempSync(join(tmpdir(), 'sb-mass-failure-'));

  afterAll(async () => {
    agents?.stopBeating();
    peak?.stop();
    for (const s of services) await s.kill();
    await agentsNc?.close().catch(() => undefined);
    await fleet?.stop();
    await Promise.all([nats?.destroy(), redis?.destroy()]);
    if (!process.env.CHAOS_DEBUG) rmSync(logs, { recursive: true, force: true });
  });

  it('pages one grouped notification stream, fails no alert transition, and keeps alerting and recovery under 300 MB', async () => {
    [nats, redis] = await Promise.all([startNatsServer(), startRedisServer()]);
    fleet = await startFleet({ workers: 0, env: { NATS_URL: nats.url, REDIS_URL: redis.url }, collectorEnv: { LIVENESS_SWEEP_MS: '100' } });
    const n = names(fleet.prefix);
    const base = { NATS_URL: nats.url, REDIS_URL: redis.url, SB_PREFIX: fleet.prefix, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_OPTIONS: process.env.MF_NODE_OPTIONS ?? '--max-semi-space-size=16' };
    const alerting = await startBuiltService(
      'alerting',
      { ...base, HTTP_PORT: String(await findFreePort()), ALERTING_DEFAULT_CHANNEL_IDS: PAGER, ALERTING_GROUP_WAIT_MS: '2000', ALERTING_GROUP_INTERVAL_MS: '2000' },
      join(logs, 'alerting.log'),
    );
    services.push(alerting);
    const recovery = await startBuiltService('recovery', { ...base, HTTP_PORT: String(await findFreePort()), RECOVERY_REPLICA_ID: 'mf-recovery' }, join(logs, 'recovery.log'));
    services.push(recovery);
    await eventually(async () => (await metricSum(recovery.port, 'sb_recovery_leader')) === 1, { timeoutMs: 15_000, description: 'recovery leads' });
    peak = new PeakRss({ alerting: alerting.pid, recovery: recovery.pid });

    // What comes out: liveness events, alert events, notifications (the outbox).
    const ups = collectMessages(fleet.nc, n.agents.livenessOf('up'));
    const downs = collectMessages(fleet.nc, n.agents.livenessOf('down'));
    const firing = collectMessages<AlertEvent>(fleet.nc, n.alerts.all, { filter: (m) => m.data.name === 'AgentDown' && m.data.state === 'firing' });
    const notifications = collectMessages<AlertNotification>(fleet.nc, n.channels.outbox);
    await Promise.all([ups.ready, downs.ready, firing.ready, notifications.ready]);

    const agentConn = (agentsNc = await connect({ servers: nats.url }));
    const specs = Array.from({ length: AGENTS }, (_, i) => ({ agentId: `mf-agent-${i}`, host: `mf-pod-${i}` }));
    agents = new SimulatedAgents(agentConn, fleet.prefix, fleet.agentKey, specs);
    // Each agent beats from its registration on, as the SDK does.
    agents.startBeating();
    await agents.register();
    await eventually(() => distinct(ups.messages.map((m) => m.subject)).size >= AGENTS, { timeoutMs: 60_000, intervalMs: 100, description: 'every agent up' });
    // Two full rounds of beats after the last registration: every agent is up and beating.
    const rounds = agents.rounds;
    await eventually(() => agents!.rounds >= rounds + 2, { timeoutMs: 10_000, intervalMs: 100, description: 'two more heartbeat rounds' });

    if (process.env.CHAOS_DEBUG) console.log(`[mass-failure] peak RSS MiB before the failure ${JSON.stringify(peak.peakMiB)}`);
    agents.stopBeating();
    const downsBefore = downs.messages.length;
    await eventually(() => distinct(downs.messages.slice(downsBefore).map((m) => m.subject)).size >= AGENTS, { timeoutMs: 60_000, intervalMs: 100, description: `all ${AGENTS} agents down` });
    await eventually(() => distinct(firing.messages.map((m) => m.data.labels.agent)).size >= AGENTS, { timeoutMs: 120_000, intervalMs: 250, description: `AgentDown firing for all ${AGENTS} agents` });

    // (1) Grouped: every down agent is in its group's latest notification, and there is one group and few pages.
    await eventually(() => notifiedAgents(notifications.messages.map((m) => m.data)) >= AGENTS, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `notifications covering all ${AGENTS} AgentDown alerts`,
    });
    const pages = distinct(notifications.messages.map((m) => m.data.id));
    const groups = distinct(notifications.messages.filter((m) => m.data.groupLabels.alertname === 'AgentDown').map((m) => m.data.groupKey));
    expect({ agentDownGroups: groups.size, pagesAtMost10: pages.size <= 10 }).toEqual({ agentDownGroups: 1, pagesAtMost10: true });
    for (const m of notifications.messages) expect(m.data.channelIds).toEqual([PAGER]);

    // Recovery is done with the failure: every agent's reclaim finished (its action log), every alert event handled.
    const jsm = await jetstreamManager(fleet.nc);
    await eventually(async () => (await doneReclaims(jsm, n.recoveryCore.actionsBucket)) >= AGENTS, { timeoutMs: 120_000, intervalMs: 500, description: "recovery's reclaim done for every agent" });
    const alertEvents = await metricSum(alerting.port, 'sb_alerting_outputs_total', (l) => l.what === 'event');
    await eventually(async () => (await metricSum(recovery.port, 'sb_requests_total', (l) => l.endpoint === n.alerts.all)) >= alertEvents, {
      timeoutMs: 120_000,
      intervalMs: 250,
      description: 'recovery handled every alert event',
    });

    // (2) No transition failed, by the counter and by the log; recovery failed no handler either.
    expect(await metricSum(alerting.port, 'sb_alerting_transition_failures_total')).toBe(0);
    expect(alerting.log()).not.toContain('alert transition failed');
    const failedHandlers = await metricSum(recovery.port, 'sb_requests_total', (l) => l.outcome === 'error' && (l.endpoint === n.alerts.all || l.endpoint === n.agents.livenessOf('down')));
    expect(failedHandlers).toBe(0);

    // (3) Bounded memory, all along.
    const rss = peak.stop();
    if (process.env.CHAOS_DEBUG) console.log(`[mass-failure] peak RSS MiB ${JSON.stringify(rss)}, ${pages.size} pages in ${groups.size} groups; logs in ${logs}`);
    expect(alerting.alive() && recovery.alive()).toBe(true);
    expect(rss.alerting).toBeLessThan(RSS_LIMIT_MIB);
    expect(rss.recovery).toBeLessThan(RSS_LIMIT_MIB);
    await Promise.all([ups.stop(), downs.stop(), firing.stop(), notifications.stop()]);
  });
});

function distinct<T>(xs: Iterable<T>): Set<T> {
  return new Set(xs);
}

/** Down agents the newest notification of each group reports (the listed alerts plus those left out of the list). */
function notifiedAgents(all: AlertNotification[]): number {
  const latest = new Map<string, AlertNotification>();
  const seq = (x: AlertNotification) => Number(x.id.slice(x.id.lastIndexOf(':') + 1));
  for (const x of all) if (x.kind !== 'resolved' && seq(x) >= seq(latest.get(x.groupKey) ?? x)) latest.set(x.groupKey, x);
  let count = 0;
  for (const x of latest.values()) count += x.alerts.filter((a) => a.name === 'AgentDown' && a.state === 'firing').length + (x.truncatedAlerts ?? 0);
  return count;
}

/** Down events of these agents that recovery finished with: `down.<agentId>.<at>` keys in its action log (a KV bucket). */
async function doneReclaims(jsm: JetStreamManager, bucket: string): Promise<number> {
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.down.>` });
  return Object.keys(info.state.subjects ?? {}).filter((k) => k.includes('.down.mf-agent-')).length;
}
