/**
 * How recovery acts on the processes that host agents (Kubernetes pods, local processes).
 * An agent's registration (its host and labels) is the agent's own word: recovery never acts on
 * a name from it. The adapter first finds the agent's process through the runtime's own records
 * (`locate`); restart, replace and the restart budget then work on what it found.
 */
import type { Labels } from '@sb/contracts';

/** A down agent as it registered itself: untrusted. */
export interface AgentRef {
  agentId: string;
  host: string;
  labels: Labels;
}

/** The agent's process as the runtime itself knows it. */
export interface RuntimeTarget {
  agentId: string;
  /** The workload the runtime found the process in (a Deployment, the local launcher): what the restart budget counts over. */
  pool: string;
  /** The process's name in the runtime (a pod name, an agent id the launcher knows). */
  name: string;
  /** The runtime's id of that very process (a pod's uid): a restart acts on it and on nothing that took its name since. */
  uid?: string;
}

export interface RuntimeResult {
  /** What was done, e.g. `deleted pod default/worker-abc`. */
  action: string;
  /** The target was already gone (counts as done). */
  alreadyGone?: boolean;
}

/** The runtime does not know the agent as one of the processes recovery may act on: nothing is done. */
export class RuntimeRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeRefusedError';
  }
}

export interface RuntimeAdapter {
  readonly name: string;
  /** Find the agent's process in the runtime's own records, or throw RuntimeRefusedError. */
  locate(agent: AgentRef): Promise<RuntimeTarget>;
  /** Restart the process in place (Kubernetes: delete the pod; its controller recreates it). */
  restart(target: RuntimeTarget): Promise<RuntimeResult>;
  /** Replace it with a fresh one without waiting for a graceful stop. */
  replace(target: RuntimeTarget): Promise<RuntimeResult>;
  /** Set the number of instances of a pool (Kubernetes: the Deployment's replicas). */
  scale(pool: string, replicas: number): Promise<RuntimeResult>;
}
