// The launcher's side of recovery's local runtime adapter: answers restart requests for the
// agent workers it runs. A worker's agent id is `<host>-<pid>` (WORKER_ID's default) unless
// WORKER_ID is set, so a request is matched by pid suffix or by that exact id.
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Output } from './output';
import type { ServiceRunner } from './services';

export interface RestartRequest {
  agentId?: unknown;
  mode?: unknown;
}

export function findWorker(runners: readonly ServiceRunner[], agentId: string, fixedWorkerId: string | undefined): ServiceRunner | undefined {
  return runners.find((r) => r.name === 'agent-worker' && r.pid !== undefined && (fixedWorkerId ? agentId === fixedWorkerId : agentId.endsWith(`-${r.pid}`)));
}

export function serveLocalRuntime(nc: NatsConnection, subject: string, runners: readonly ServiceRunner[], fixedWorkerId: string | undefined, out: Output): Subscription {
  return nc.subscribe(subject, {
    callback: (_err, msg) => {
      let req: RestartRequest = {};
      try {
        req = JSON.parse(new TextDecoder().decode(msg.data)) as RestartRequest;
      } catch {
        /* answered below as not found */
      }
      const agentId = typeof req.agentId === 'string' ? req.agentId : '';
      const worker = agentId ? findWorker(runners, agentId, fixedWorkerId) : undefined;
      if (!worker) {
        msg.respond(JSON.stringify({ action: `no local worker is agent ${agentId || '(none given)'}`, alreadyGone: true }));
        return;
      }
      const pid = worker.pid;
      const done = worker.forceRestart();
      if (done) out.warn(`recovery asked to restart agent ${agentId}: killed agent-worker pid ${pid}; it is started again`);
      msg.respond(JSON.stringify(done ? { action: `killed agent-worker pid ${pid}; the launcher starts a new one` } : { action: `agent-worker pid ${pid} is stopping; not restarted`, alreadyGone: true }));
    },
  });
}
