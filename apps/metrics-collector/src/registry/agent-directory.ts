/**
 * The collector's in-memory view of the fleet: each agent's registration, status, latest
 * heartbeat and recent up/down transitions. Every replica keeps the whole view (it sees every
 * heartbeat and every liveness event); the registration part is also kept in the KV snapshot.
 *
 * Everything kept per agent is bounded: the registration by its schema and the registration
 * size limit, the transitions by MAX_TRANSITIONS, the rest is fixed-size; and the number of
 * agents by the registration limits, which this view counts (per agent key, too).
 */
import type { AgentLivenessEvent, AgentRegistration, AgentStatus, FleetAgentView, Heartbeat } from '@sb/contracts';

/** Transitions are counted over this window (`sb_fleet_agent_flaps`). */
export const FLAP_WINDOW_MS = 10 * 60_000;
/** Transitions kept per agent (a flapping agent pages long before this many). */
export const MAX_TRANSITIONS = 64;

export interface AgentEntry {
  reg: AgentRegistration;
  /** False for an agent known only from its heartbeats (registration not seen yet). */
  registered: boolean;
  registeredAt: number | null;
  status: AgentStatus;
  statusSince: number;
  lastBeat?: Heartbeat;
  lastBeatAt: number | null;
  transitions: number[];
  /** The hash of the agent's current session (agent protocol v1); undefined when it has none. */
  sessionHash?: string;
  /** The last session string that matched `sessionHash`, so a heartbeat costs a hash only when the session changes. */
  verifiedSession?: string;
  /** The agent key it registered with (per-key limit). */
  keyId?: string;
  /** When the registry recorded it gone (left, or declared down): where its status clock restarts after a collector restart. */
  recordedGoneAt?: number;
}

export interface BeatOutcome {
  /** The agent had no registration here: ask it to register again. */
  unknown: boolean;
  /** A reordered (older) beat: counted, not applied. */
  stale: boolean;
}

export const placeholderRegistration = (agentId: string): AgentRegistration => ({
  agentId,
  capabilities: [],
  version: 'unknown',
  maxConcurrency: 1,
  host: 'unknown',
  labels: {},
  heartbeatIntervalMs: 1_000,
});

/**
 * A lower sequence number is a restarted agent (it counts from 0 again) when its own clock says
 * the beat is newer, or, without clocks, when it is near the start; otherwise a reordered beat.
 */
function restarted(last: Heartbeat, hb: Heartbeat): boolean {
  if (hb.sentAt !== undefined && last.sentAt !== undefined) return hb.sentAt > last.sentAt;
  return hb.seq < 3;
}

export class AgentDirectory {
  private readonly agents = new Map<string, AgentEntry>();
  private readonly perKey = new Map<string, number>();

  get size(): number {
    return this.agents.size;
  }
  get(agentId: string): AgentEntry | undefined {
    return this.agents.get(agentId);
  }
  entries(): IterableIterator<AgentEntry> {
    return this.agents.values();
  }

  /** Agents registered with this agent key (down and departed ones included, until forgotten). */
  countForKey(keyId: string): number {
    return this.perKey.get(keyId) ?? 0;
  }

  /** The agent down or departed for the longest (of this key's, when given): the one to forget first when there is no room. */
  longestGone(keyId?: string): string | undefined {
    let found: AgentEntry | undefined;
    for (const e of this.agents.values()) {
      if (e.status === 'up' || (keyId !== undefined && e.keyId !== keyId)) continue;
      if (!found || e.statusSince < found.statusSince) found = e;
    }
    return found?.reg.agentId;
  }

  /**
   * A registration (from the request, or from another replica via the KV snapshot), with its
   * session's hash; `session` when this replica issued or verified it (the first beat costs no hash).
   */
  register(reg: AgentRegistration, at: number, sessionHash?: string, session?: string, keyId?: string): AgentEntry {
    const prev = this.agents.get(reg.agentId);
    this.countKey(prev?.keyId, -1);
    this.countKey(keyId, +1);
    const entry: AgentEntry = {
      reg,
      registered: true,
      registeredAt: at,
      status: prev?.status ?? 'up',
      statusSince: prev?.statusSince ?? at,
      lastBeat: prev?.lastBeat,
      lastBeatAt: prev?.lastBeatAt ?? null,
      transitions: prev?.transitions ?? [],
      sessionHash,
      verifiedSession: session ?? (prev?.sessionHash === sessionHash ? prev?.verifiedSession : undefined),
      keyId,
    };
    this.agents.set(reg.agentId, entry);
    return entry;
  }

  /** The registry says the agent's session changed (another replica's registration, or a departure: undefined). */
  setSessionHash(agentId: string, sessionHash: string | undefined): void {
    const e = this.agents.get(agentId);
    if (!e || e.sessionHash === sessionHash) return;
    e.sessionHash = sessionHash;
    e.verifiedSession = undefined;
  }

  /** Apply a heartbeat received at `now`. Unknown agents get a placeholder entry so they are tracked at once. */
  beat(hb: Heartbeat, now: number): BeatOutcome {
    let e = this.agents.get(hb.agentId);
    if (!e) {
      e = { reg: placeholderRegistration(hb.agentId), registered: false, registeredAt: null, status: 'up', statusSince: now, lastBeatAt: null, transitions: [] };
      this.agents.set(hb.agentId, e);
    }
    if (e.lastBeat && hb.seq <= e.lastBeat.seq && !restarted(e.lastBeat, hb)) return { unknown: !e.registered, stale: true };
    e.lastBeat = hb;
    e.lastBeatAt = now;
    return { unknown: !e.registered, stale: false };
  }

  /** Follow a published liveness event (ours or another replica's). */
  applyLiveness(ev: Pick<AgentLivenessEvent, 'agentId' | 'state'>, now: number): void {
    const e = this.agents.get(ev.agentId);
    // Idempotent: the replica that announced an event applies it at once and again when it arrives.
    if (!e || e.status === ev.state) return;
    if (ev.state === 'down' || (ev.state === 'up' && e.status === 'down')) {
      e.transitions.push(now);
      if (e.transitions.length > MAX_TRANSITIONS) e.transitions.splice(0, e.transitions.length - MAX_TRANSITIONS);
    }
    e.statusSince = now;
    e.status = ev.state;
  }

  /** Status known from storage at boot (not a transition: no flap counted), in that status `since`. */
  restoreStatus(agentId: string, status: AgentStatus, since: number): void {
    const e = this.agents.get(agentId);
    if (!e || e.status === status) return;
    e.status = status;
    e.statusSince = since;
  }

  /** Up/down transitions in the last FLAP_WINDOW_MS. */
  flaps(agentId: string, now: number): number {
    const e = this.agents.get(agentId);
    if (!e) return 0;
    while (e.transitions.length > 0 && e.transitions[0] < now - FLAP_WINDOW_MS) e.transitions.shift();
    return e.transitions.length;
  }

  /** Agents down or gone for longer than `ms`. */
  inactiveLongerThan(ms: number, now: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.agents) if (e.status !== 'up' && now - e.statusSince > ms) out.push(id);
    return out;
  }

  /** Agents past their retention: departed for longer than `leftMs`, or down for longer than `downMs`. */
  pastRetention(leftMs: number, downMs: number, now: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.agents) {
      const keep = e.status === 'left' ? leftMs : e.status === 'down' ? downMs : Infinity;
      if (now - e.statusSince > keep) out.push(id);
    }
    return out;
  }

  remove(agentId: string): void {
    this.countKey(this.agents.get(agentId)?.keyId, -1);
    this.agents.delete(agentId);
  }

  private countKey(keyId: string | undefined, by: number): void {
    if (keyId === undefined) return;
    const n = (this.perKey.get(keyId) ?? 0) + by;
    if (n > 0) this.perKey.set(keyId, n);
    else this.perKey.delete(keyId);
  }

  view(agentId: string, now: number, activeAlerts: number): FleetAgentView | undefined {
    const e = this.agents.get(agentId);
    if (!e) return undefined;
    const b = e.lastBeat;
    const live = e.status === 'up';
    return {
      agentId,
      status: e.status,
      draining: live && b?.status === 'draining',
      host: e.reg.host,
      version: e.reg.version,
      capabilities: e.reg.capabilities,
      labels: e.reg.labels,
      maxConcurrency: e.reg.maxConcurrency,
      heartbeatIntervalMs: e.reg.heartbeatIntervalMs,
      registeredAt: e.registeredAt === null ? null : new Date(e.registeredAt).toISOString(),
      lastHeartbeatAt: e.lastBeatAt === null ? null : new Date(e.lastBeatAt).toISOString(),
      heartbeatAgeMs: e.lastBeatAt === null ? null : Math.max(0, now - e.lastBeatAt),
      inFlight: live ? (b?.inFlight ?? 0) : 0,
      capacity: live ? (b?.capacity ?? e.reg.maxConcurrency) : 0,
      cpuPercent: b?.cpuPercent ?? null,
      memoryPercent: b?.memoryPercent ?? null,
      memoryBytes: b?.memoryBytes ?? null,
      flaps: this.flaps(agentId, now),
      activeAlerts,
    };
  }
}
