/**
 * The collector's decisions with a driven clock and an in-memory liveness port (the Redis
 * scripts themselves are tested against real Redis in liveness-store.int-spec.ts).
 */
import type { AgentLivenessEvent, AgentRegistration, Heartbeat } from '@sb/contracts';
import { FleetCollector } from './collector';
import type { ClaimedDown, LivenessPort, PendingBeat, SweepResult } from './liveness/liveness-store';
import type { RegistryRecord } from './registry/kv-registry-store';

/** Same rules as the Lua scripts, in memory. */
class MemoryLiveness implements LivenessPort {
  live = new Map<string, number>();
  state = new Map<string, 'down' | 'left'>();
  held = new Map<string, string>();
  lastSweep = 0;
  failing = false;
  failBeats = false;
  async beat(now: number, beats: PendingBeat[]) {
    if (this.failing || this.failBeats) throw new Error('redis down');
    const resumed: string[] = [];
    for (const b of beats) {
      if (b.deadline <= now || this.state.get(b.agentId) === 'left') continue;
      if (this.state.get(b.agentId) === 'down') {
        this.state.delete(b.agentId);
        resumed.push(b.agentId);
      }
      this.live.set(b.agentId, Math.max(b.deadline, this.live.get(b.agentId) ?? 0));
      if (b.tasksJson !== undefined) this.held.set(b.agentId, b.tasksJson);
    }
    return resumed;
  }
  async sweep(now: number, _limit: number, gapMs: number, graceMs: number): Promise<SweepResult> {
    if (this.failing) throw new Error('redis down');
    const gap = now - this.lastSweep > gapMs;
    this.lastSweep = now;
    if (gap) {
      let n = 0;
      for (const [id, d] of this.live) if (d <= now + graceMs) (this.live.set(id, now + graceMs), n++);
      return { kind: 'rearmed', count: n };
    }
    const down: ClaimedDown[] = [];
    for (const [id, d] of this.live) {
      if (d > now) continue;
      this.live.delete(id);
      this.state.set(id, 'down');
      down.push({ agentId: id, deadline: d, tasksJson: this.held.get(id) ?? '[]' });
    }
    return { kind: 'claimed', down };
  }
  async register(id: string, deadline: number) {
    const prev = this.state.get(id) ?? '';
    this.state.delete(id);
    this.live.set(id, deadline);
    this.held.set(id, '[]');
    return prev;
  }
  async leave(id: string) {
    const was = this.live.delete(id) || this.state.get(id) === 'down';
    this.state.set(id, 'left');
    return was;
  }
  async forget(id: string) {
    this.live.delete(id);
    this.state.delete(id);
  }
  async snapshot() {
    return { live: new Map(this.live), down: new Set([...this.state].filter(([, st]) => st === 'down').map(([id]) => id)) };
  }
}

function setup() {
  let now = 1_000_000;
  const liveness = new MemoryLiveness();
  const events: AgentLivenessEvent[] = [];
  const asked: string[] = [];
  const records: RegistryRecord[] = [];
  const verdicts: string[] = [];
  const lags: number[] = [];
  const dropped: Record<string, number> = {};
  const collector = new FleetCollector(
    {
      liveness,
      registry: { put: async (r) => void records.push(r), delete: async () => undefined, sessionHash: async (id) => records.filter((r) => r.registration.agentId === id).at(-1)?.sessionHash },
      publish: { publish: (ev) => events.push(ev) },
      probe: { pending: async () => [{ capability: 'echo', priority: 'normal', pending: 3 }], deadLetters: async () => new Map([['echo', 2]]) },
      clock: { now: () => now },
      heartbeatHooks: { askToRegister: (id) => asked.push(id), counted: (v) => verdicts.push(v), flushFailed: () => undefined },
      sweepHooks: { rearmed: () => undefined, failed: () => undefined, detected: (ms) => lags.push(ms) },
      ingestHooks: { accepted: () => undefined, dropped: (r, n) => (dropped[r] = (dropped[r] ?? 0) + n) },
    },
    { missedBeats: 2.5, sweepMs: 100, maxSeriesPerAgent: 3, seriesRetentionMs: 60_000, forgetAfterMs: 3600_000, fleetWindowMs: 60_000 },
  );
  const advance = async (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) {
      now += step;
      await collector.heartbeats.flush();
      await collector.sweeper.tick();
    }
  };
  return { collector, liveness, events, asked, records, verdicts, lags, dropped, advance, now: () => now };
}

const reg = (agentId: string, extra: Partial<AgentRegistration> = {}): AgentRegistration => ({
  agentId,
  capabilities: ['echo'],
  version: '1.0.0',
  maxConcurrency: 4,
  host: 'host-a',
  labels: { zone: 'a' },
  heartbeatIntervalMs: 1_000,
  ...extra,
});
const beat = (agentId: string, seq: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({ agentId, seq, status: 'ready', inFlight: 0, capacity: 4, tasks: [], ...extra });
const task = { taskId: 't1', tenantId: 'tn', capability: 'echo', priority: 'normal' as const, attempt: 1, ackSubject: '$JS.ACK.S.C.1.2.3.4.0' };

describe('FleetCollector liveness', () => {
  it('announces up on registration and records the snapshot', async () => {
    const s = setup();
    await s.collector.heartbeats.flush();
    await s.collector.sweeper.tick(); // first sweep after boot re-arms (nothing to judge yet)
    const reply = await s.collector.registration.register(reg('a1'));
    expect(reply).toEqual({ agentId: 'a1', registered: true, downAfterMs: 2_500, session: expect.stringMatching(/^sbs_[A-Za-z0-9_-]{32}$/), heartbeatIntervalMs: 1_000 });
    // Only its hash is stored; presenting it keeps it, anything else gets a new one.
    expect(s.records[0].sessionHash).toEqual(expect.any(String));
    expect(JSON.stringify(s.records)).not.toContain(reply.session);
    expect((await s.collector.registration.register(reg('a1'), reply.session)).session).toBe(reply.session);
    expect((await s.collector.registration.register(reg('a1'), 'sbs_guessed')).session).not.toBe(reply.session);
    s.events.splice(1);
    expect(s.events.map((e) => [e.agentId, e.state, e.reason])).toEqual([['a1', 'up', 'registered']]);
    expect(s.events[0]).toMatchObject({ host: 'host-a', capabilities: ['echo'], labels: { zone: 'a' } });
    expect(s.records[0]).toMatchObject({ registration: { agentId: 'a1' }, left: false });
  });

  it('keeps a beating agent up, and announces exactly one down with its held tasks after 2.5 intervals of silence', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    for (let i = 0; i < 10; i++) {
      s.collector.onHeartbeat('a1', beat('a1', i, { inFlight: 1, tasks: [task] }));
      await s.advance(1_000);
    }
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    // Silence: the last beat was at the start of the last second.
    await s.advance(1_300);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    await s.advance(400);
    const downs = s.events.filter((e) => e.state === 'down');
    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatchObject({ agentId: 'a1', reason: 'missed_heartbeats', host: 'host-a', tasks: [task] });
    expect(s.lags[0]).toBeLessThanOrEqual(100);
    await s.advance(5_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(1);
    expect(s.collector.overview.agents()[0]).toMatchObject({ agentId: 'a1', status: 'down', flaps: 1 });
  });

  it('tolerates a beat late by less than one interval', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    s.collector.onHeartbeat('a1', beat('a1', 0));
    await s.advance(1_900); // one beat missed, the next arrives 0.9 s late
    s.collector.onHeartbeat('a1', beat('a1', 1));
    await s.advance(1_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
  });

  it('brings a down agent back up when it beats again, counting two flaps', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    await s.advance(3_000);
    s.collector.onHeartbeat('a1', beat('a1', 5));
    await s.advance(100);
    expect(s.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['up:registered', 'down:missed_heartbeats', 'up:heartbeat_resumed']);
    expect(s.collector.directory.flaps('a1', s.now())).toBe(2);
  });

  it('deregistration announces left once and never down', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    expect(await s.collector.registration.deregister({ agentId: 'a1', reason: 'shutdown' })).toBe(true);
    expect(await s.collector.registration.deregister({ agentId: 'a1', reason: 'shutdown' })).toBe(false);
    s.collector.onHeartbeat('a1', beat('a1', 9)); // a straggler after leaving
    await s.advance(10_000);
    expect(s.events.map((e) => `${e.state}:${e.reason}`)).toEqual(['up:registered', 'left:deregistered']);
  });

  it('tracks an unknown heartbeating agent at once and asks it to register (rate-limited)', async () => {
    const s = setup();
    await s.advance(100);
    s.collector.onHeartbeat('ghost', beat('ghost', 0, { tasks: [task] }));
    s.collector.onHeartbeat('ghost', beat('ghost', 1, { tasks: [task] }));
    expect(s.asked).toEqual(['ghost']);
    await s.advance(3_000);
    expect(s.events.filter((e) => e.state === 'down')).toMatchObject([{ agentId: 'ghost', tasks: [task] }]);
  });

  it('counts invalid, mismatched and reordered heartbeats without applying them', () => {
    const s = setup();
    s.collector.onHeartbeat('a1', { agentId: 'a1' });
    s.collector.onHeartbeat('a1', undefined);
    s.collector.onHeartbeat('a1', beat('a2', 0));
    s.collector.onHeartbeat('a1', beat('a1', 5));
    s.collector.onHeartbeat('a1', beat('a1', 3));
    expect(s.verdicts).toEqual(['invalid', 'invalid', 'mismatch', 'accepted', 'stale']);
    expect(s.collector.directory.get('a1')?.lastBeat?.seq).toBe(5);
    // A restarted agent counts from 0 again (its first beat may be lost): its clock says newer.
    s.collector.onHeartbeat('a1', beat('a1', 40, { sentAt: 1_000 }));
    s.collector.onHeartbeat('a1', beat('a1', 2, { sentAt: 900 }));
    s.collector.onHeartbeat('a1', beat('a1', 1, { sentAt: 2_000 }));
    s.collector.onHeartbeat('a1', beat('a1', 2, { sentAt: 3_000 }));
    expect(s.verdicts.slice(5)).toEqual(['accepted', 'stale', 'accepted', 'accepted']);
  });

  it('re-arms instead of declaring everyone down after a gap in sweeping (Redis or collector away)', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    await s.collector.registration.register(reg('a2'));
    s.liveness.failing = true;
    await s.advance(10_000);
    s.liveness.failing = false;
    s.collector.onHeartbeat('a1', beat('a1', 1)); // a1 is alive, a2 died meanwhile
    await s.advance(2_000);
    expect(s.events.filter((e) => e.state === 'down')).toHaveLength(0);
    s.collector.onHeartbeat('a1', beat('a1', 2));
    await s.advance(1_000);
    expect(s.events.filter((e) => e.state === 'down').map((e) => e.agentId)).toEqual(['a2']);
  });

  it('judges no one while received beats could not be written', async () => {
    const s = setup();
    await s.advance(100);
    await s.collector.registration.register(reg('a1'));
    await s.advance(2_000);
    s.collector.onHeartbeat('a1', beat('a1', 1));
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
    await s.collector.registration.register(reg('a1'));
    s.liveness.failing = true;
    s.collector.onHeartbeat('a1', beat('a1', 1, { tasks: [task] }));
    await s.collector.heartbeats.flush();
    expect(s.collector.heartbeats.pendingCount).toBe(1);
    s.liveness.failing = false;
    await s.collector.heartbeats.flush();
    expect(s.collector.heartbeats.pendingCount).toBe(0);
    expect(JSON.parse(s.liveness.held.get('a1')!)).toEqual([task]);
  });
});

describe('FleetCollector metrics, overview and report', () => {
  it('ingests batches from known agents only, under their own id, with a per-agent ceiling', async () => {
    const s = setup();
    s.collector.onHeartbeat('a1', beat('a1', 0));
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
    await s.collector.registration.register(reg('a1'));
    s.collector.onHeartbeat('a1', beat('a1', 0));
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
    await s.collector.registration.register(reg('hot'));
    await s.collector.registration.register(reg('calm'));
    for (let i = 0; i < 5; i++) {
      s.collector.onHeartbeat('hot', beat('hot', i, { cpuPercent: 90, memoryPercent: 90, inFlight: 4 }));
      s.collector.onHeartbeat('calm', beat('calm', i, { cpuPercent: 10, memoryPercent: 20, inFlight: 1 }));
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
    for (let i = 0; i < 250; i++) await s.collector.registration.register(reg(`a${String(i).padStart(3, '0')}`));
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
