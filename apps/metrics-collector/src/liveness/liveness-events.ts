/** Building and announcing `sb.v1.agents.<id>.up|down|left`. */
import type { AgentLivenessEvent } from '@sb/contracts';
import { type AgentEntry, placeholderRegistration } from '../registry/agent-directory';

export interface LivenessPublisher {
  publish(ev: AgentLivenessEvent): void;
}

export function livenessEvent(
  agentId: string,
  entry: AgentEntry | undefined,
  state: AgentLivenessEvent['state'],
  reason: string,
  at: number,
  lastHeartbeatAt: number | null,
): AgentLivenessEvent {
  const reg = entry?.reg ?? placeholderRegistration(agentId);
  return {
    agentId,
    state,
    reason,
    at: new Date(at).toISOString(),
    lastHeartbeatAt: lastHeartbeatAt === null ? null : new Date(lastHeartbeatAt).toISOString(),
    host: reg.host,
    capabilities: reg.capabilities,
    labels: reg.labels,
  };
}

/** How long after its last beat an agent with this interval is declared down. */
export const downAfterMs = (heartbeatIntervalMs: number, missedBeats: number): number => Math.round(heartbeatIntervalMs * missedBeats);
