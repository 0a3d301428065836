/** Which of a runner's agents runs a task: the first, in the order given, that serves its capability and accepts it. */
import type { Agent, AgentTask } from './agent';

export type Route = { agent: Agent<any, any> } | { agent: undefined; reason: string };

export class AgentRouter {
  private readonly byCapability = new Map<string, Agent<any, any>[]>();

  constructor(agents: readonly Agent<any, any>[]) {
    for (const a of agents) {
      for (const c of a.capabilities) {
        let list = this.byCapability.get(c);
        if (!list) this.byCapability.set(c, (list = []));
        if (!list.includes(a)) list.push(a);
      }
    }
  }

  /** Every capability served, each once, in first-seen order. */
  get capabilities(): string[] {
    return [...this.byCapability.keys()];
  }

  /**
   * The agent for `task`, or why there is none. A `canHandle` that throws counts as a refusal
   * (reported through `onCheckError`), so one faulty check does not keep other agents from the task.
   */
  route(task: AgentTask, onCheckError?: (agent: Agent<any, any>, err: unknown) => void): Route {
    const candidates = this.byCapability.get(task.capability);
    if (!candidates?.length) return { agent: undefined, reason: `no agent of this runner serves capability ${task.capability}` };
    for (const agent of candidates) {
      if (!agent.canHandle) return { agent };
      let ok = false;
      try {
        const verdict: unknown = agent.canHandle(task);
        if (typeof (verdict as { then?: unknown } | null)?.then === 'function') throw new TypeError(`canHandle of ${agent.name} returned a promise; it must decide synchronously`);
        ok = Boolean(verdict);
      } catch (err) {
        onCheckError?.(agent, err);
      }
      if (ok) return { agent };
    }
    return { agent: undefined, reason: `no agent for capability ${task.capability} accepted the task (${candidates.map((a) => a.name).join(', ')})` };
  }
}
