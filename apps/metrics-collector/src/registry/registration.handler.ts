/**
 * Registration and graceful departure. Registering (again) is idempotent: the agent is live
 * from now on and `up` is announced. Deregistering stops tracking without a down alarm and
 * announces `left` once, however many replicas receive it.
 */
import type { AgentRegistration, Deregistration, RegistrationReply } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import { agentSessionMatches, hashAgentSession, newAgentSession } from '@sb/messaging';
import { downAfterMs, type LivenessPublisher, livenessEvent } from '../liveness/liveness-events';
import type { LivenessPort } from '../liveness/liveness-store';
import type { AgentDirectory } from './agent-directory';
import type { RegistryStorePort } from './kv-registry-store';

export class RegistrationHandler {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly store: RegistryStorePort,
    private readonly liveness: LivenessPort,
    private readonly events: LivenessPublisher,
    private readonly clock: Clock,
    private readonly missedBeats: number,
    private readonly catalog?: (capabilities: readonly string[], agentId: string) => Promise<void>,
  ) {}

  /** `presented`: the session the agent sent (`Sb-Agent-Session`); kept when it is the stored one, else a new one is issued. */
  async register(reg: AgentRegistration, presented?: string): Promise<RegistrationReply> {
    const now = this.clock.now();
    const after = downAfterMs(reg.heartbeatIntervalMs, this.missedBeats);
    const keep = presented !== undefined && agentSessionMatches(presented, await this.store.sessionHash(reg.agentId));
    const session = keep ? presented : newAgentSession();
    await this.liveness.register(reg.agentId, now + after);
    const entry = this.directory.register(reg, now);
    await this.store.put({ registration: reg, registeredAt: now, left: false, sessionHash: hashAgentSession(session) });
    await this.catalog?.(reg.capabilities, reg.agentId);
    this.events.publish(livenessEvent(reg.agentId, entry, 'up', 'registered', now, entry.lastBeatAt));
    return { agentId: reg.agentId, registered: true, downAfterMs: after, session, heartbeatIntervalMs: reg.heartbeatIntervalMs };
  }

  async deregister(d: Deregistration): Promise<boolean> {
    const now = this.clock.now();
    if (!(await this.liveness.leave(d.agentId))) return false;
    const entry = this.directory.get(d.agentId);
    this.events.publish(livenessEvent(d.agentId, entry, 'left', d.reason === 'shutdown' ? 'deregistered' : `deregistered: ${d.reason}`, now, entry?.lastBeatAt ?? null));
    if (entry?.registered) await this.store.put({ registration: entry.reg, registeredAt: entry.registeredAt ?? now, left: true });
    return true;
  }
}
