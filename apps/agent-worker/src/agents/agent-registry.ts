/**
 * The agents hosted by this worker, and which one takes a task: the first registered agent that
 * declares the task's capability and, if it has `canHandle`, accepts the task.
 */
import type { QueuedTask } from '@sb/contracts';
import type { Agent } from './agent';
import { AGENT_CATALOG } from './agent-catalog';

export interface RegistryOptions {
  /** Allow test agents (sleep, flaky). */
  testAgents: boolean;
}

export class AgentRegistry {
  private readonly agents: Agent[] = [];

  /** Builds a registry from configured agent names; an unknown name, or a test agent while they are off, throws. */
  static fromConfig(names: readonly string[], opts: RegistryOptions): AgentRegistry {
    const registry = new AgentRegistry();
    for (const name of new Set(names)) {
      const entry = AGENT_CATALOG.get(name);
      if (!entry) {
        throw new Error(`Unknown agent "${name}"; known agents: ${[...AGENT_CATALOG.keys()].sort().join(', ')}`);
      }
      if (entry.testOnly && !opts.testAgents) {
        throw new Error(`Agent "${name}" is a test agent; enable test agents to load it`);
      }
      registry.register(entry.create());
    }
    return registry;
  }

  register(agent: Agent): this {
    if (this.agents.some((a) => a.name === agent.name)) throw new Error(`Agent "${agent.name}" is already registered`);
    this.agents.push(agent);
    return this;
  }

  /** Every capability offered, sorted, without duplicates. */
  capabilities(): string[] {
    return [...new Set(this.agents.flatMap((a) => a.capabilities))].sort();
  }

  /** Names of the registered agents, in registration order. */
  names(): string[] {
    return this.agents.map((a) => a.name);
  }

  route(task: QueuedTask): Agent | undefined {
    return this.agents.find((a) => a.capabilities.includes(task.capability) && (a.canHandle?.(task) ?? true));
  }
}
