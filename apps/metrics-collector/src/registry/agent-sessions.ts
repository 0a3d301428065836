/**
 * Session checks on what agents publish (agent protocol v1, Identity): a heartbeat, a metric
 * batch or a deregistration carries the speaking agent's session in `Sb-Agent-Session`, or it is
 * dropped (events get no reply), counted, and recorded as an `agent_refused` security event, at
 * most one per agent per REFUSAL_EVENT_EVERY_MS so a flood cannot fill the security stream.
 *
 * The heartbeat path is hot (one beat per agent per second): the session's hash is kept with the
 * agent's entry and the last session that matched it is remembered, so a beat costs a map lookup
 * and a string compare. A session this replica cannot match (a registration by another replica
 * it has not watched yet, a collector that restarted) is checked against the registry's record,
 * at most once per REREAD_EVERY_MS per agent and MAX_REREADS at a time; security events are also
 * capped fleet-wide (a flood under ever new ids).
 */
import { agentSessionMatches, type SecurityEventInput } from '@sb/messaging';
import type { Clock } from '@sb/observability';
import type { AgentDirectory } from './agent-directory';
import type { RegistryRecord, RegistryStorePort } from './kv-registry-store';

export type AgentMessageKind = 'heartbeat' | 'metrics' | 'deregister';
/** `unknown_agent`: no registration is known for the id; `unverified`: the registry could not be read. */
export type SessionRefusal = 'no_session' | 'wrong_session' | 'unknown_agent' | 'unverified';
export type SessionVerdict = 'ok' | SessionRefusal;

export interface SessionHooks {
  /** Every dropped message (the collector's counter). */
  dropped(kind: AgentMessageKind, reason: SessionRefusal): void;
  securityEvent(e: SecurityEventInput): void;
}

export const REFUSAL_EVENT_EVERY_MS = 10_000;
/** Refusal events per second over all agents. */
export const MAX_REFUSAL_EVENTS_PER_S = 50;
export const REREAD_EVERY_MS = 1_000;
const MAX_REREADS = 64;
const MAX_TRACKED = 100_000;

const REASONS: Record<Exclude<SessionRefusal, 'unverified'>, string> = {
  no_session: 'no session',
  wrong_session: 'session of another agent, or a stale one',
  unknown_agent: 'not registered',
};

export class AgentSessions {
  private readonly rereadAt = new Map<string, number>();
  private readonly rereading = new Map<string, Promise<RegistryRecord | undefined>>();
  private readonly reportedAt = new Map<string, number>();
  private eventsSecond = 0;
  private eventsInSecond = 0;

  constructor(
    private readonly directory: AgentDirectory,
    private readonly store: Pick<RegistryStorePort, 'read'>,
    /** A registry record read here that this replica had not applied yet. */
    private readonly onRecord: (rec: RegistryRecord) => void,
    private readonly hooks: SessionHooks,
    private readonly clock: Clock,
  ) {}

  /** At once when this replica knows the session; otherwise after reading the registry. Never rejects. */
  check(kind: AgentMessageKind, agentId: string, session: string | undefined): SessionVerdict | Promise<SessionVerdict> {
    const e = this.directory.get(agentId);
    if (session && e) {
      if (e.verifiedSession === session) return 'ok';
      if (e.sessionHash !== undefined && agentSessionMatches(session, e.sessionHash)) {
        e.verifiedSession = session;
        return 'ok';
      }
    }
    const known = !!e?.registered;
    // Without a session there is nothing to look up; the registry is read at most every REREAD_EVERY_MS per agent.
    const now = this.clock.now();
    const last = this.rereadAt.get(agentId);
    if (!session || (last !== undefined && now - last < REREAD_EVERY_MS) || this.rereading.size >= MAX_REREADS) {
      return this.refuse(kind, agentId, !known ? 'unknown_agent' : session ? 'wrong_session' : 'no_session');
    }
    if (this.rereadAt.size >= MAX_TRACKED) this.rereadAt.clear();
    this.rereadAt.set(agentId, now);
    return this.reread(agentId).then(
      (rec) => {
        const hash = rec && !rec.left ? rec.sessionHash : undefined;
        if (!rec || rec.left) return this.refuse(kind, agentId, known ? 'wrong_session' : 'unknown_agent');
        if (!agentSessionMatches(session, hash)) return this.refuse(kind, agentId, 'wrong_session');
        if (!this.directory.get(agentId)?.registered) this.onRecord(rec);
        this.directory.setSessionHash(agentId, hash);
        const entry = this.directory.get(agentId);
        if (entry) entry.verifiedSession = session;
        return 'ok';
      },
      () => this.refuse(kind, agentId, 'unverified'),
    );
  }

  private reread(agentId: string): Promise<RegistryRecord | undefined> {
    let p = this.rereading.get(agentId);
    if (!p) {
      p = this.store.read(agentId).then((s) => s?.record);
      this.rereading.set(agentId, p);
      void p.finally(() => this.rereading.delete(agentId)).catch(() => undefined);
    }
    return p;
  }

  private refuse(kind: AgentMessageKind, agentId: string, reason: SessionRefusal): SessionRefusal {
    this.hooks.dropped(kind, reason);
    if (reason === 'unverified') return reason; // our registry read failed: not the agent's doing
    const now = this.clock.now();
    const last = this.reportedAt.get(agentId);
    if (last !== undefined && now - last < REFUSAL_EVENT_EVERY_MS) return reason;
    const second = Math.floor(now / 1000);
    if (second !== this.eventsSecond) [this.eventsSecond, this.eventsInSecond] = [second, 0];
    if (++this.eventsInSecond > MAX_REFUSAL_EVENTS_PER_S) return reason;
    if (this.reportedAt.size >= MAX_TRACKED) this.reportedAt.clear();
    this.reportedAt.set(agentId, now);
    this.hooks.securityEvent({ type: 'agent_refused', transport: 'nats', route: `agents.${kind}`, agentId, reason: REASONS[reason] });
    return reason;
  }
}
