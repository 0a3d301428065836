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
 */
import { AGENT_SESSION_HEADER, AgentIdInUseError, type AgentRegistration, type Deregistration, type RegistrationReply } from '@sb/contracts';
import { agentSessionMatches, hashAgentSession, newAgentSession, type SecurityEventInput } from '@sb/messaging';
import type { Clock } from '@sb/observability';
import { downAfterMs, type LivenessPublisher, livenessEvent } from '../liveness/liveness-events';
import type { LivenessPort } from '../liveness/liveness-store';
import { type AgentCredentialsPort, REGISTER_ROUTE } from './agent-credentials';
import type { AgentDirectory } from './agent-directory';
import type { RegistryRecord, RegistryStorePort } from './kv-registry-store';

/** Registrations of one id that lost the compare-and-set in a row before it is called in use. */
const MAX_CLAIMS = 3;

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
}

/** What `register` carried besides its body: `Authorization`, and `Sb-Agent-Session` when the agent has one. */
export interface RegisterHeaders {
  authorization?: string;
  session?: string;
}

export class RegistrationHandler {
  constructor(private readonly d: RegistrationDeps) {}

  async register(reg: AgentRegistration, headers: RegisterHeaders = {}): Promise<RegistrationReply> {
    const principal = await this.d.credentials.verify(headers.authorization, reg.agentId);
    const after = downAfterMs(reg.heartbeatIntervalMs, this.d.missedBeats);
    for (let claim = 1; ; claim++) {
      const now = this.d.clock.now();
      const stored = await this.d.store.read(reg.agentId);
      const live = stored?.record && !stored.record.left ? stored.record : undefined;
      const keep = headers.session !== undefined && agentSessionMatches(headers.session, live?.sessionHash);
      // After a lost compare-and-set, the record read now is a registration of a moment ago: up.
      if (!keep && live?.sessionHash !== undefined && (claim > 1 || this.isUp(live, now))) {
        const { keyId, tenantId } = principal;
        this.d.securityEvent({ type: 'agent_refused', transport: 'nats', route: REGISTER_ROUTE, agentId: reg.agentId, keyId, tenantId, reason: 'id in use' });
        throw new AgentIdInUseError(`Agent id ${reg.agentId} is up under another session: present its session in ${AGENT_SESSION_HEADER}, or use another id`);
      }
      const session = keep ? headers.session! : newAgentSession();
      const sessionHash = keep ? live!.sessionHash! : hashAgentSession(session);
      // Live (a deadline) before the claim: a claimed id always has a deadline, so it goes down if
      // its agent never beats (e.g. the reply was lost), and may then be registered anew.
      await this.d.liveness.register(reg.agentId, now + after);
      const claimed = await this.d.store.putIf({ registration: reg, registeredAt: now, left: false, sessionHash }, stored?.revision);
      if (!claimed && claim >= MAX_CLAIMS) throw new AgentIdInUseError(`Agent id ${reg.agentId} is being registered by others: use another id, or retry`);
      if (!claimed) continue;
      const entry = this.d.directory.register(reg, now, sessionHash, session);
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
    if (entry?.registered) await this.d.store.put({ registration: entry.reg, registeredAt: entry.registeredAt ?? now, left: true });
    return true;
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
