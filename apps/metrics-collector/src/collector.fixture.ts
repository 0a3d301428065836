/**
 * The collector for unit specs: a driven clock, liveness and registry in memory (the same rules
 * as the Lua scripts and the KV bucket's compare-and-set), auth answering for a few known keys,
 * and everything the collector reports (events, security events, refusals) kept for assertions.
 * Plain data, no timers; the Redis scripts and the bucket are tested for real in the int specs.
 */
import { type AgentLivenessEvent, type AgentRegistration, type Heartbeat, InvalidCredentialsError, type Principal } from '@sb/contracts';
import { ApiKeyVerifier, type SecurityEventInput } from '@sb/messaging';
import { type CollectorSettings, FleetCollector } from './collector';
import type { ClaimedDown, LivenessPort, PendingBeat, SweepResult } from './liveness/liveness-store';
import { AgentCredentials } from './registry/agent-credentials';
import type { RegistryRecord, RegistryStorePort, StoredRecord } from './registry/kv-registry-store';

/** Same rules as the Lua scripts, in memory. */
export class MemoryLiveness implements LivenessPort {
  live = new Map<string, number>();
  state = new Map<string, 'down' | 'left'>();
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
      down.push({ agentId: id, deadline: d });
    }
    return { kind: 'claimed', down };
  }
  async register(id: string, deadline: number) {
    const prev = this.state.get(id) ?? '';
    this.state.delete(id);
    this.live.set(id, deadline);
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

/** The registry bucket in memory: revisions, compare-and-set, and every write kept in order (`written`). */
export class MemoryRegistry implements RegistryStorePort {
  readonly current = new Map<string, StoredRecord>();
  readonly written: RegistryRecord[] = [];
  reads = 0;
  private revision = 0;
  /** Runs once, after the next read looked and before it answers (another replica's write racing this one). */
  beforeNextRead?: () => Promise<unknown>;
  async put(rec: RegistryRecord) {
    this.written.push(rec);
    this.current.set(rec.registration.agentId, { record: structuredClone(rec), revision: ++this.revision });
  }
  async delete(agentId: string) {
    this.current.delete(agentId);
  }
  async read(agentId: string) {
    this.reads++;
    const s = this.current.get(agentId);
    const race = this.beforeNextRead;
    this.beforeNextRead = undefined;
    await race?.();
    return s && { record: structuredClone(s.record), revision: s.revision };
  }
  async putIf(rec: RegistryRecord, revision: number | undefined) {
    if (this.current.get(rec.registration.agentId)?.revision !== revision) return false;
    await this.put(rec);
    return true;
  }
}

export const AGENT_KEY = 'sb_agent_key_0123456789';
/** Another pool's agent key. */
export const AGENT_KEY_B = 'sb_agent_b_key_0123456789';
/** Keys auth knows, by secret: an agent key, a tenant's task key, an admin key, a revoked agent key. */
const KEYS: Record<string, Principal | 'revoked'> = {
  [AGENT_KEY]: { keyId: 'key_agent', tenantId: 'system', scopes: ['agent'] },
  [AGENT_KEY_B]: { keyId: 'key_agent_b', tenantId: 'system', scopes: ['agent'] },
  sb_tasks_key_0123456789: { keyId: 'key_tasks', tenantId: 'tn_a', scopes: ['tasks:submit'] },
  sb_admin_key_0123456789: { keyId: 'key_admin', tenantId: 'system', scopes: ['admin'] },
  sb_revoked_key_0123456789: 'revoked',
};

export const reg = (agentId: string, extra: Partial<AgentRegistration> = {}): AgentRegistration => ({
  agentId,
  capabilities: ['echo'],
  version: '1.0.0',
  maxConcurrency: 4,
  host: 'host-a',
  labels: { zone: 'a' },
  heartbeatIntervalMs: 1_000,
  ...extra,
});
export const beat = (agentId: string, seq: number, extra: Partial<Heartbeat> = {}): Heartbeat => ({ agentId, seq, status: 'ready', inFlight: 0, capacity: 4, ...extra });
/** A held task as agents listed it in heartbeats before protocol v1 (with its JetStream ack subject); now ignored. */
export const legacyTask = { taskId: 't1', tenantId: 'tn', capability: 'echo', priority: 'normal' as const, attempt: 1, ackSubject: '$JS.ACK.S.C.1.2.3.4.0' };

export function setup(opts: { registry?: MemoryRegistry; liveness?: MemoryLiveness; start?: number; settings?: Partial<CollectorSettings> } = {}) {
  let now = opts.start ?? 1_000_000;
  const liveness = opts.liveness ?? new MemoryLiveness();
  const registry = opts.registry ?? new MemoryRegistry();
  const events: AgentLivenessEvent[] = [];
  const asked: string[] = [];
  const verdicts: string[] = [];
  const lags: number[] = [];
  const dropped: Record<string, number> = {};
  const security: SecurityEventInput[] = [];
  const refused: string[] = [];
  let authCalls = 0;
  const keys = new ApiKeyVerifier(
    {
      authorize: async (credential) => {
        authCalls++;
        const p = KEYS[credential];
        if (p === 'revoked') throw new InvalidCredentialsError(undefined, { details: { reason: 'revoked', keyId: 'key_revoked', tenantId: 'system' } });
        if (!p) throw new InvalidCredentialsError(undefined, { details: { reason: 'unknown' } });
        return p;
      },
    },
    10_000,
    () => now,
  );
  const credentials = new AgentCredentials(keys, (e) => security.push(e));
  const collector = new FleetCollector(
    {
      liveness,
      registry,
      publish: { publish: (ev) => events.push(ev) },
      probe: { pending: async () => [{ capability: 'echo', priority: 'normal', pending: 3 }], deadLetters: async () => new Map([['echo', 2]]) },
      clock: { now: () => now },
      heartbeatHooks: { askToRegister: (id) => asked.push(id), counted: (v) => verdicts.push(v), flushFailed: () => undefined },
      sweepHooks: { rearmed: () => undefined, failed: () => undefined, detected: (ms) => lags.push(ms) },
      ingestHooks: { accepted: () => undefined, dropped: (r, n) => (dropped[r] = (dropped[r] ?? 0) + n) },
      credentials,
      securityEvent: (e) => security.push(e),
      refused: (kind, reason) => refused.push(`${kind}:${reason}`),
    },
    { missedBeats: 2.5, sweepMs: 100, maxSeriesPerAgent: 3, seriesRetentionMs: 60_000, forgetAfterMs: 3600_000, fleetWindowMs: 60_000, leaseMs: 30_000, ...opts.settings },
  );
  const advance = async (ms: number, step = 100) => {
    for (let t = 0; t < ms; t += step) {
      now += step;
      await collector.heartbeats.flush();
      await collector.sweeper.tick();
    }
  };
  /** Each agent's session, from its last registration here. */
  const sessions = new Map<string, string>();
  /** Register with the agent key (and the agent's session, if it has one). */
  const register = async (agentId: string, extra: Partial<AgentRegistration> = {}, headers: { authorization?: string; session?: string } = {}) => {
    const reply = await collector.registration.register(reg(agentId, extra), { authorization: `Bearer ${AGENT_KEY}`, session: sessions.get(agentId), ...headers });
    sessions.set(agentId, reply.session);
    return reply;
  };
  /** A heartbeat as the agent sends it: with its session, or the one given (undefined: none). */
  const beatAs = (agentId: string, body: unknown, ...session: [string | undefined] | []) => collector.onHeartbeat(agentId, body, session.length ? session[0] : sessions.get(agentId));
  return {
    collector,
    credentials,
    liveness,
    registry,
    records: registry.written,
    events,
    asked,
    verdicts,
    lags,
    dropped,
    security,
    refused,
    sessions,
    register,
    beatAs,
    advance,
    authCalls: () => authCalls,
    now: () => now,
  };
}
