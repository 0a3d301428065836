/**
 * Local runtime adapter: the agent workers `npm start` runs are child processes of its
 * launcher, which answers on `runtime.localRestart`. Restart and replace both end the process
 * with SIGKILL (a paused or hung worker cannot stop gracefully) and the launcher starts a new
 * one with its own backoff and budget; scale is not supported locally. The launcher only ever
 * acts on a worker process it started itself (matched by the agent id it gave it), so locate has
 * nothing to look up: every local worker is one pool, `local`.
 */
import type { AgentRef, RuntimeAdapter, RuntimeResult, RuntimeTarget } from './runtime-adapter';

/** The restart budget's key for the launcher's workers. */
export const LOCAL_POOL = 'local';

export interface LocalSupervisorPort {
  /** Request/reply to the launcher; rejects when no launcher answers. */
  request(subject: string, body: unknown): Promise<unknown>;
  restartSubject: string;
}

export class LocalRuntimeAdapter implements RuntimeAdapter {
  readonly name = 'local';

  constructor(private readonly port: LocalSupervisorPort) {}

  locate(agent: AgentRef): Promise<RuntimeTarget> {
    return Promise.resolve({ agentId: agent.agentId, pool: LOCAL_POOL, name: agent.agentId });
  }

  restart(target: RuntimeTarget): Promise<RuntimeResult> {
    return this.ask(target, 'restart');
  }

  replace(target: RuntimeTarget): Promise<RuntimeResult> {
    return this.ask(target, 'replace');
  }

  scale(pool: string, _replicas?: number): Promise<RuntimeResult> {
    return Promise.reject(new Error(`scaling pool ${pool} is not supported by the local runtime (start more workers with npm start's WORKER_* settings)`));
  }

  private async ask(target: RuntimeTarget, mode: 'restart' | 'replace'): Promise<RuntimeResult> {
    const reply = (await this.port.request(this.port.restartSubject, { agentId: target.agentId, mode })) as Partial<RuntimeResult> | null;
    if (!reply || typeof reply.action !== 'string') throw new Error('the local supervisor gave no usable answer');
    return { action: reply.action, alreadyGone: reply.alreadyGone === true };
  }
}
