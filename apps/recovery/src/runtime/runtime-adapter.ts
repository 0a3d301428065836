/** How recovery acts on the processes that host agents (Kubernetes pods, local processes). */
import type { Labels } from '@sb/contracts';

export interface AgentRef {
  agentId: string;
  host: string;
  labels: Labels;
}

export interface RuntimeResult {
  /** What was done, e.g. `deleted pod default/worker-abc`. */
  action: string;
  /** The target was already gone (counts as done). */
  alreadyGone?: boolean;
}

export interface RuntimeAdapter {
  readonly name: string;
  /** Restart the agent's process in place (Kubernetes: delete the pod; its controller recreates it). */
  restart(agent: AgentRef): Promise<RuntimeResult>;
  /** Replace it with a fresh one without waiting for a graceful stop. */
  replace(agent: AgentRef): Promise<RuntimeResult>;
  /** Set the number of instances of a pool (Kubernetes: the Deployment's replicas). */
  scale(pool: string, replicas: number): Promise<RuntimeResult>;
}

/** The agent's pool: what its restart budget is counted over (a replaced pod has a new agent id). */
export function poolOf(agent: AgentRef): string {
  return agent.labels.pool ?? agent.labels.deployment ?? agent.labels.app ?? agent.agentId;
}
