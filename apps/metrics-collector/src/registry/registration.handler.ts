/**
 * Registration and graceful departure (agent protocol v1, Identity).
 *
 * Registering needs an `agent` key (AgentCredentials) and answers with a session: the one the
 * agent presented when it is the id's current one (a reconnect, or the collector asking), else a
 * new one. One id has one live session: an id that is up under another session is refused
 * (AGENT.ID_IN_USE, a security event); a down or departed id may be registered anew. The
 * registry record is written by compare-and-set, so of two registrations racing for an id on two
 * replicas one wins and the other is judged again against it. Then the agent is live from now
 * on and `up` is announced.
 *
 * Deregistering (its session checked by the caller) stops tracking without a down alarm and
 * announces `left` once, however many replicas receive it.
 *
 * Limits (issue 12, #13: a key holder registering ids without end would fill Redis and memory):
 * a registration is at most `maxRegistrationBytes` (413), and a new id is taken only while the
 * fleet has fewer than `maxAgents` agents and its agent key fewer than `maxAgentsPerKey` (one key
 * per pool makes that a pool's limit). Down and departed agents count until they are forgotten;
 * at a limit the one gone the longest (of that key, for the key's limit) is forgotten to make
 * room, and only when every agent counted is up is the registration refused: 429
 * AGENT.LIMIT_REACHED, a security event. Counted on this replica's view of the registry, which
 * every replica follows: registrations racing on several replicas may pass a limit by as many.
 */
import {
  AGENT_SESSION_HEADER,
  AgentIdInUseError,
  AgentLimitError,
  type AgentRegistration,
  type Deregistration,
  PayloadTooLargeError,
  type Principal,
  type RegistrationReply,
} from '@sb/contracts';
import { agentSessionMatches, hashAgentSession, newAgentSession, type SecurityEventInput } from '@sb/messaging';
import type { Clock } from '@sb/observability';
import { downAfterMs, type LivenessPublisher, livenessEvent } from '../liveness/liveness-events';
import type { LivenessPort } from '../liveness/liveness-store';
import { type AgentCredentialsPort, REGISTER_ROUTE } from './agent-credentials';
import type { AgentDirectory } from './agent-directory';
import type { RegistryRecord, RegistryStorePort } from './kv-registry-store';

/** Registrations of one id that lost the compare-and-set in a row before it is called in use. */
const MAX_CLAIMS = 3;
/** Retry-After of AGENT.LIMIT_REACHED: room comes back as agents are forgotten or leave. */
const LIMIT_RETRY_AFTER_S = 30;

export interface AgentLimits {
  maxAgents: number;
  maxAgentsPerKey: number;
  maxRegistrationBytes: number;
}
export const DEFAULT_AGENT_LIMITS: AgentLimits = { maxAgents: 10_000, maxAgentsPerKey: 5_000, maxRegistrationBytes: 8 * 1024 };

export interface RegistrationDeps {
  directory: AgentDirectory;
  store: RegistryStorePort;
  liveness: LivenessPort;
  events: LivenessPublisher;
  clock: Clock;
  missedBeats: number;
  /** The lease length agents are told (the task queue's ack wait). */
  leaseMs: number;
  credentials: AgentCredentialsPort;
  securityEvent: (e: SecurityEventInput) => void;
  /** The capability catalog: what registered agents offer. */
  catalog?: (capabilities: readonly string[], agentId: string) => Promise<void>;
  limits?: Partial<AgentLimits>;
  /** Forget an agent everywhere (registry, liveness, history), as housekeeping does: to make room at a limit. */
  forget?: (agentId: string) => Promise<void>;
}

/** What `register` carried besides its body: `Authorization`, and `Sb-Agent-Session` when the agent has one. */
export interface RegisterHeaders {
  authorization?: string;
  session?: string;
}

export class RegistrationHandler {
  private readonly limits: AgentLimits;

  constructor(private readonly d: RegistrationDeps) {
    this.limits = { ...DEFAULT_AGENT_LIMITS, ...d.limits };
  }

  async register(reg: AgentRegistration, headers: RegisterHeaders = {}): Promise<RegistrationReply> {
    const principal = await this.d.credentials.verify(headers.authorization, reg.agentId);
    if (Buffer.byteLength(JSON.stringify(reg)) > this.limits.maxRegistrationBytes) {
      this.refuse(principal, reg.agentId, 'registration too large');
      const max = this.limits.maxRegistrationBytes;
      throw new PayloadTooLargeError(`A registration is at most ${max} bytes (capabilities, labels, host, version)`);
    }
    if (!this.d.directory.get(reg.agentId)?.registered) await this.makeRoom(principal, reg.agentId);
    const after = downAfterMs(reg.heartbeatIntervalMs, this.d.missedBeats);
    let before: RegistryRecord | undefined;
    for (let claim = 1; ; claim++) {
      const now = this.d.clock.now();
      const stored = await this.d.store.read(reg.agentId);
      const live = stored?.record && !stored.record.left ? stored.record : undefined;
      const keep = headers.session !== undefined && agentSessionMatches(headers.session, live?.sessionHash);
      // After a compare-and-set lost to another registration, the record read now is a registration
      // of a moment ago: up. One lost to a note on the same registration (when it went down) is not.
      const registeredMeanwhile = claim > 1 && !(before && live && sameRegistration(before, live));
      before = stored?.record;
      if (!keep && live?.sessionHash !== undefined && (registeredMeanwhile || this.isUp(live, now))) {
        this.refuse(principal, reg.agentId, 'id in use');
        throw new AgentIdInUseError(`Agent id ${reg.agentId} is up under another session: present its session in ${AGENT_SESSION_HEADER}, or use another id`);
      }
      const session = keep ? headers.session! : newAgentSession();
      const sessionHash = keep ? live!.sessionHash! : hashAgentSession(session);
      // Live (a deadline) before the claim: a claimed id always has a deadline, so it goes down if
      // its agent never beats (e.g. the reply was lost), and may then be registered anew.
      await this.d.liveness.register(reg.agentId, now + after);
      const claimed = await this.d.store.putIf({ registration: reg, registeredAt: now, left: false, sessionHash, keyId: principal.keyId }, stored?.revision);
      if (!claimed && claim >= MAX_CLAIMS) throw new AgentIdInUseError(`Agent id ${reg.agentId} is being registered by others: use another id, or retry`);
      if (!claimed) continue;
      const entry = this.d.directory.register(reg, now, sessionHash, session, principal.keyId);
      await this.d.catalog?.(reg.capabilities, reg.agentId);
      this.d.events.publish(livenessEvent(reg.agentId, entry, 'up', 'registered', now, entry.lastBeatAt));
      const { heartbeatIntervalMs } = reg;
      return { agentId: reg.agentId, registered: true, downAfterMs: after, session, heartbeatIntervalMs, leaseMs: this.d.leaseMs };
    }
  }

  /** `d` comes with its agent's session, already checked (AgentSessions). */
  async deregister(d: Deregistration): Promise<boolean> {
    const now = this.d.clock.now();
    if (!(await this.d.liveness.leave(d.agentId))) return false;
    const entry = this.d.directory.get(d.agentId);
    const reason = d.reason === 'shutdown' ? 'deregistered' : `deregistered: ${d.reason}`;
    this.d.events.publish(livenessEvent(d.agentId, entry, 'left', reason, now, entry?.lastBeatAt ?? null));
    // Its session ends with it: the id may be registered anew.
    this.d.directory.setSessionHash(d.agentId, undefined);
    if (entry?.registered) await this.d.store.put({ registration: entry.reg, registeredAt: entry.registeredAt ?? now, left: true, goneAt: now });
    return true;
  }

  /** A new id needs room under the key's limit and the fleet's: the agent gone the longest makes it, or the registration is refused. */
  private async makeRoom(principal: Principal, agentId: string): Promise<void> {
    const dir = this.d.directory;
    const { maxAgents, maxAgentsPerKey } = this.limits;
    const scopes: Array<[string | undefined, () => boolean, string]> = [
      [principal.keyId, () => dir.countForKey(principal.keyId) >= maxAgentsPerKey, `agent key's limit (${maxAgentsPerKey})`],
      [undefined, () => dir.size >= maxAgents, `fleet's limit (${maxAgents})`],
    ];
    for (const [keyId, full, which] of scopes) {
      while (full()) {
        const gone = this.d.forget ? dir.longestGone(keyId) : undefined;
        if (gone === undefined) {
          this.refuse(principal, agentId, `agent limit: the ${which}`);
          const message = `No room for another agent: the ${which} is reached and every agent counted is up`;
          throw new AgentLimitError(message, { retryAfter: LIMIT_RETRY_AFTER_S });
        }
        await this.d.forget!(gone);
        // Never loop on one that stays.
        if (dir.get(gone)) throw new AgentLimitError('No room for another agent yet', { retryAfter: LIMIT_RETRY_AFTER_S });
      }
    }
  }

  private refuse(principal: Principal, agentId: string, reason: string): void {
    const { keyId, tenantId } = principal;
    this.d.securityEvent({ type: 'agent_refused', transport: 'nats', route: REGISTER_ROUTE, agentId, keyId, tenantId, reason });
  }

  /**
   * Whether the agent of this record is up: as this replica followed it, or, for a registration it
   * has not followed yet, unless the record is older than the agent's down threshold.
   */
  private isUp(rec: RegistryRecord, now: number): boolean {
    const e = this.d.directory.get(rec.registration.agentId);
    if (e?.registered && e.registeredAt !== null && e.registeredAt >= rec.registeredAt) return e.status === 'up';
    return now - rec.registeredAt < downAfterMs(rec.registration.heartbeatIntervalMs, this.d.missedBeats);
  }
}

/** The same registration (time and session), whatever was noted on it since (`goneAt`). */
function sameRegistration(a: RegistryRecord, b: RegistryRecord): boolean {
  return a.registeredAt === b.registeredAt && a.sessionHash === b.sessionHash && !a.left && !b.left;
}
