/**
 * The collector's decisions with a driven clock and an in-memory liveness port (the Redis
 * scripts themselves are tested against real Redis in liveness-store.int-spec.ts). Agents
 * register with an agent key and beat with their session (identity: registry/agent-identity.spec.ts).
 */
import { beat, legacyTask, reg, setup } from './collector.fixture';

describe('FleetCollector liveness', () => {
  it('announces up on registration and records the snapshot', async () => {
    const s = setup();
    await s.collector.heartbeats.flush();
    await s.collector.sweeper.tick(); // first sweep after boot re-arms (nothing to judge yet)
    const reply = await s.register('a1');
    expect(reply).toEqual({ agentId: 'a1', registered: true, downAfterMs: 2_500, session: expect.stringMatching(/^sbs_[A-Za-z0-9_-]{32}$/), heartbeatIntervalMs: 1_000, leaseMs: 30_000 });
    // Only its hash is stored; presenting it keeps it.
    expect(s.records[0].sessionHash).toEqual(expect.any(String));
    expect(JSON.stringify(s.records)).not.toContain(reply.session);
    expect((await s.register('a1', {}, { session: reply.session })).session).toBe(reply.session);
    s.events.splice(1);
    expect(s.events.map((e) => [e.agentId, e.state, e.reason])).toEqual([['a1', 'up', 'registered']]);
    expect(s.events[0]).toMatchObject({ host: 'host-a', capabilities: ['echo'], labels: { zone: 'a' } });
    expect(s.records[0]).toMatchObject({ registration: { agentId: 'a1' }, left: false });
  });

  it('keeps a beating agent up, and announces exactly one down, naming no tasks, after 2.5 intervals of silence', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    for (let i = 0; i < 10; i++) {
      // An old agent still lists held tasks with ack subjects: its beats count, the list is ignored.
      s.beatAs('a1', { ...beat('a1', i, { inFlight: 1 }), tasks: [legacyTask] });
      await s.advance(1_000);
    }
    expect(s.verdicts).toEqual(Array(10).fill('accepted'));
    expect(s.collector.directory.get('a1')?.lastBeat).not.toHaveProperty('tasks');
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    // Silence: the last beat was at the start of the last second.
    await s.advance(1_300);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    await s.advance(400);
    const downs = s.events.filter((e) => e.state === 'down');
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({ agentId: 'a1', reason: 'missed_heartbeats', host: 'host-a', capabilities: ['echo'] });
    expect(downs[0]).not.toHaveProperty('tasks');
    expect(s.lags[0]).toBeLessThanOrEqual(100);
    await s.advance(5_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(1);
    expect(s.collector.overview.agents()[0]).toMatchObject({ agentId: 'a1', status: 'down', flaps: 1 });
  });

  it('tolerates a beat late by less than one interval', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    s.beatAs('a1', beat('a1', 0));
    await s.advance(1_900); // one beat missed, the next arrives 0.9 s late
    s.beatAs('a1', beat('a1', 1));
    await s.advance(1_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
  });

  it('brings a down agent back up when it beats again, counting two flaps', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    await s.advance(3_000);
    s.beatAs('a1', beat('a1', 5));
    await s.advance(100);
    expect(s.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['up:registered', 'down:missed_heartbeats', 'up:heartbeat_resumed']);
    expect(s.collector.directory.flaps('a1', s.now())).toBe(2);
  });

  it('deregistration announces left once and never down', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    expect(await s.collector.registration.deregister({ agentId: 'a1', reason: 'shutdown' })).toBe(true);
    expect(await s.collector.registration.deregister({ agentId: 'a1', reason: 'shutdown' })).toBe(false);
    s.beatAs('a1', beat('a1', 9)); // a straggler after leaving
    await s.advance(10_000);
    expect(s.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['up:registered', 'left:deregistered']);
  });

  it('drops the beats of an agent it has no registration of, and asks it to register (rate-limited)', async () => {
    const s = setup();
    await s.advance(100);
    s.beatAs('ghost', beat('ghost', 0));
    s.beatAs('ghost', beat('ghost', 1));
    expect(s.asked).toEqual(['ghost']);
    expect(s.verdicts).toEqual([]);
    expect(s.refused).toEqual(['heartbeat:unknown_agent', 'heartbeat:unknown_agent']);
    await s.advance(3_000);
    expect(s.events).toEqual([]);
    expect(s.liveness.live.has('ghost')).toBe(false);
  });

  it('counts invalid, mismatched and reordered heartbeats without applying them', async () => {
    const s = setup();
    await s.register('a1');
    s.beatAs('a1', { agentId: 'a1' });
    s.beatAs('a1', undefined);
    s.beatAs('a1', beat('a2', 0));
    s.beatAs('a1', beat('a1', 5));
    s.beatAs('a1', beat('a1', 3));
    expect(s.verdicts).toEqual(['invalid', 'invalid', 'mismatch', 'accepted', 'stale']);
    expect(s.collector.directory.get('a1')?.lastBeat?.seq).toBe(5);
    // A restarted agent counts from 0 again (its first beat may be lost): its clock says newer.
    s.beatAs('a1', beat('a1', 40, { sentAt: 1_000 }));
    s.beatAs('a1', beat('a1', 2, { sentAt: 900 }));
    s.beatAs('a1', beat('a1', 1, { sentAt: 2_000 }));
    s.beatAs('a1', beat('a1', 2, { sentAt: 3_000 }));
    expect(s.verdicts.slice(5)).toEqual(['accepted', 'stale', 'accepted', 'accepted']);
  });

  it('re-arms instead of declaring everyone down after a gap in sweeping (Redis or collector away)', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    await s.register('a2');
    s.liveness.failing = true;
    await s.advance(10_000);
    s.liveness.failing = false;
    s.beatAs('a1', beat('a1', 1)); // a1 is alive, a2 died meanwhile
    await s.advance(2_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    s.beatAs('a1', beat('a1', 2));
    await s.advance(1_000);
    expect(s.events.filter((e) => e.state === 'down').map((e) => e.agentId)).toEqual(['a2']);
  });

  it('judges no one while received beats could not be written', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    await s.advance(2_000);
    s.beatAs('a1', beat('a1', 1));
    s.liveness.failBeats = true;
    await s.advance(600); // the registration deadline passes; the beat that extends it is not in Redis yet
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    s.liveness.failBeats = false;
    await s.advance(500);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
  });

  it('restores at boot: down agents shown down, registered agents Redis lost are tracked again', async () => {
    const s = setup();
    await s.advance(100);
    const rec = (agentId: string, left = false) => ({ registration: reg(agentId), registeredAt: s.now() - 60_000, left });
    s.collector.applyRecord(rec('was-down'));
    s.collector.applyRecord(rec('lost'));
    s.collector.applyRecord(rec('gone', true));
    s.liveness.state.set('was-down', 'down');
    await s.collector.restore();
    expect(s.collector.overview.agents().map((a) => [a.agentId, a.status, a.flaps])).toEqual([
      ['gone', 'left', 0],
      ['lost', 'up', 0],
      ['was-down', 'down', 0],
    ]);
    await s.advance(2_600);
    expect(s.events.filter((e) => e.state === 'down').map((e) => e.agentId)).toEqual(['lost']);
  });

  it('keeps beats written while Redis fails and writes them when it returns', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    const registered = s.liveness.live.get('a1')!;
    s.liveness.failing = true;
    await s.advance(1_000);
    s.beatAs('a1', beat('a1', 1));
    await s.collector.heartbeats.flush();
    expect(s.collector.heartbeats.pendingCount).toBe(1);
    expect(s.liveness.live.get('a1')).toBe(registered);
    s.liveness.failing = false;
    await s.collector.heartbeats.flush();
    expect(s.collector.heartbeats.pendingCount).toBe(0);
    expect(s.liveness.live.get('a1')).toBe(s.now() + 2_500);
    expect(s.liveness.live.get('a1')).toBeGreaterThan(registered);
  });
});

describe('FleetCollector metrics, overview and report', () => {
  it('ingests batches from known agents only, under their own id, with a per-agent ceiling', async () => {
    const s = setup();
    await s.register('a1');
    s.beatAs('a1', beat('a1', 0));
    const g = (name: string, value: number) => ({ type: 'gauge' as const, name, labels: {}, value });
    expect(s.collector.metrics.onBatch('a1', { agentId: 'a1', samples: [g('m1', 1), g('m2', 2), g('m3', 3), g('m4', 4)] })).toBe(3);
    expect(s.collector.metrics.onBatch('a1', { agentId: 'a2', samples: [g('m1', 1)] })).toBe(0);
    expect(s.collector.metrics.onBatch('zz', { agentId: 'zz', samples: [g('m1', 1)] })).toBe(0);
    expect(s.collector.metrics.onBatch('a1', { agentId: 'a1', samples: [{ type: 'gauge', name: 'bad name', value: 1 }] })).toBe(0);
    expect(s.collector.metrics.onBatch('a1', 'garbage')).toBe(0);
    expect(s.dropped).toEqual({ cardinality: 1, agent_mismatch: 1, unknown_agent: 1, invalid: 2 });
    expect(s.collector.overview.overview().metrics).toMatchObject({ series: 3, agentsReporting: 1, samplesIngested: 3, samplesDropped: 5 });
  });

  it('derives fleet samples: error ratio and p95 per capability, queue, dead letters, agents, flaps', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('a1');
    s.beatAs('a1', beat('a1', 0));
    const counters = (ok: number, failed: number) => [
      { type: 'counter' as const, name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'succeeded' }, value: ok },
      { type: 'counter' as const, name: 'sb_agent_tasks_total', labels: { capability: 'echo', outcome: 'failed' }, value: failed },
      { type: 'histogram' as const, name: 'sb_agent_task_duration_seconds', labels: { capability: 'echo' }, buckets: [{ le: 0.1, count: ok }, { le: 1, count: ok + failed }], sum: 1, count: ok + failed },
    ];
    s.collector.metrics.onBatch('a1', { agentId: 'a1', samples: counters(100, 0) }); // baseline
    s.collector.metrics.onBatch('a1', { agentId: 'a1', samples: counters(190, 10) });
    const batch = await s.collector.samples.build();
    const find = (name: string, labels: Record<string, string>) => batch.samples.find((x) => x.name === name && JSON.stringify(x.labels) === JSON.stringify(labels));
    expect(batch.agentId).toBe('fleet');
    expect(find('sb_fleet_task_error_ratio', { capability: 'echo' })).toMatchObject({ value: 0.1 });
    expect((find('sb_fleet_task_duration_p95_seconds', { capability: 'echo' }) as { value: number }).value).toBeCloseTo(0.55, 5);
    expect(find('sb_fleet_queue_pending', { capability: 'echo', priority: 'normal' })).toMatchObject({ value: 3 });
    expect(find('sb_fleet_dead_letters', { capability: 'echo' })).toMatchObject({ value: 2 });
    expect(find('sb_fleet_agents', { status: 'up' })).toMatchObject({ value: 1 });
    expect(find('sb_fleet_agents', { status: 'down' })).toMatchObject({ value: 0 });
    await s.advance(3_000);
    const after = await s.collector.samples.build();
    expect(after.samples.find((x) => x.name === 'sb_fleet_agent_flaps')).toMatchObject({ labels: { agent: 'a1' }, value: 1 });
  });

  it('reports per agent figures, a health score and recommendations; counts active alerts', async () => {
    const s = setup();
    await s.advance(100);
    await s.register('hot');
    await s.register('calm');
    for (let i = 0; i < 5; i++) {
      s.beatAs('hot', beat('hot', i, { cpuPercent: 90, memoryPercent: 90, inFlight: 4 }));
      s.beatAs('calm', beat('calm', i, { cpuPercent: 10, memoryPercent: 20, inFlight: 1 }));
      await s.advance(1_000);
    }
    s.collector.alerts.apply({ fingerprint: 'f1', severity: 'critical', state: 'firing', labels: { agent: 'hot' } });
    s.collector.alerts.apply({ fingerprint: 'f2', severity: 'warning', state: 'firing', labels: {} });
    s.collector.alerts.apply({ fingerprint: 'f2', severity: 'warning', state: 'resolved', labels: {} });
    const report = s.collector.reports.report(1);
    const hot = report.agents.find((a) => a.agentId === 'hot')!;
    expect(hot).toMatchObject({ samples: 5, cpuPercent: { avg: 90, max: 90 }, memoryPercent: { avg: 90, max: 90 }, inFlight: { avg: 4, max: 4 }, activeAlerts: 1, healthScore: 100 - 30 - 25 - 10 });
    expect(report.agents.find((a) => a.agentId === 'calm')).toMatchObject({ healthScore: 100, findings: [] });
    expect(report.recommendations.some((r) => r.includes('Agent hot averages 90% CPU'))).toBe(true);
    expect(report.recommendations.some((r) => r.includes('calm'))).toBe(false);
    const overview = s.collector.overview.overview();
    expect(overview.alerts).toEqual({ active: 1, bySeverity: { info: 0, warning: 0, critical: 1, emergency: 0 } });
    expect(overview.agents.byStatus).toEqual({ up: 2, down: 0, left: 0 });
    expect(overview.capacity).toMatchObject({ total: 8, inFlight: 5 });
  });

  it('keeps replies bounded for a large fleet: pages of agents, a capped overview list and report', async () => {
    const s = setup();
    await s.advance(100);
    for (let i = 0; i < 250; i++) await s.register(`a${String(i).padStart(3, '0')}`);
    await s.advance(3_000); // all down
    const page = s.collector.overview.page({ limit: 100, after: 'a099' });
    expect(page).toMatchObject({ next: 'a199', total: 250 });
    expect(page.agents.map((a) => a.agentId)).toEqual(Array.from({ length: 100 }, (_, i) => `a${100 + i}`));
    expect(s.collector.overview.page({ limit: 100, after: 'a199' })).toMatchObject({ next: null });
    const o = s.collector.overview.overview();
    expect(o.agents).toMatchObject({ total: 250, listTruncated: true });
    expect(o.agents.list).toHaveLength(200);
    const r = s.collector.reports.report(1, 10);
    expect(r).toMatchObject({ agentsOmitted: 240, fleet: { agents: 250, unhealthy: 250 } });
    expect(r.agents).toHaveLength(10);
    expect(r.recommendations.at(-2)).toBe('200 more agents are down or unhealthy: page through GET /v1/fleet/report?limit= or /v1/agents for them.');
  });
});
