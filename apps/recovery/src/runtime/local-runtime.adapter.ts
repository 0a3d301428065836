/**
 * Local runtime adapter: the agent workers `npm start` runs are child processes of its
 * launcher, which answers on `runtime.localRestart`. Restart and replace both end the process
 * with SIGKILL (a paused or hung worker cannot stop gracefully) and the launcher starts a new
 * one with its own backoff and budget; scale is not supported locally.
 */
import type { AgentRef, RuntimeAdapter, RuntimeResult } from './runtime-adapter';

export interface LocalSupervisorPort {
  /** Request/reply to the launcher; rejects when no launcher answers. */
  request(subject: string, body: unknown): Promise<unknown>;
  restartSubject: string;
}

export class LocalRuntimeAdapter implements RuntimeAdapter {
  readonly name = 'local';

  constructor(private readonly port: LocalSupervisorPort) {}

  restart(agent: AgentRef): Promise<RuntimeResult> {
    return this.ask(agent, 'restart');
  }

  replace(agent: AgentRef): Promise<RuntimeResult> {
    return this.ask(agent, 'replace');
  }

  scale(pool: string, _replicas?: number): Promise<RuntimeResult> {
    return Promise.reject(new Error(`scaling pool ${pool} is not supported by the local runtime (start more workers with npm start's WORKER_* settings)`));
  }

  private async ask(agent: AgentRef, mode: 'restart' | 'replace'): Promise<RuntimeResult> {
    const reply = (await this.port.request(this.port.restartSubject, { agentId: agent.agentId, mode })) as Partial<RuntimeResult> | null;
    if (!reply || typeof reply.action !== 'string') throw new Error('the local supervisor gave no usable answer');
    return { action: reply.action, alreadyGone: reply.alreadyGone === true };
  }
}
