/**
 * A down agent's process is restarted through the runtime adapter (leader only, once per
 * down event), with backoff per pool; when the pool's restart budget is spent, recovery
 * stops and raises `RecoveryRestartBudgetExhausted` instead. The process and its pool are what
 * the adapter found in the runtime's own records, never the agent's registration: an agent the
 * runtime does not know as one of its workers is refused (nothing restarted, no budget spent),
 * and a fresh pool name in a registration does not reset any budget. Everything lands on the
 * agent's incident timeline.
 */
import type { AgentLivenessEvent, RaiseAlert } from '@sb/contracts';
import { actionKey, type ActionLog } from '../actions/action-log';
import type { IncidentLog } from '../incidents/incident-log';
import type { RestartPolicy } from './restart-policy';
import { type RuntimeAdapter, RuntimeRefusedError, type RuntimeTarget } from './runtime-adapter';

export interface RestartPorts {
  lease: { isLeader(): boolean; readonly epoch: number };
  actions: ActionLog;
  incidents: IncidentLog;
  adapter: RuntimeAdapter;
  policy: RestartPolicy;
  raiseAlert(alert: RaiseAlert): void;
  delay(ms: number): Promise<void>;
  metrics?: { restarted(outcome: 'ok' | 'failed' | 'budget_exhausted' | 'refused'): void };
}

export type RestartOutcome = 'not_leader' | 'already_done' | 'restarted' | 'refused' | 'failed' | 'budget_exhausted' | 'lost_leadership';

export class RestartHandler {
  constructor(private readonly p: RestartPorts) {}

  async onDown(ev: AgentLivenessEvent): Promise<RestartOutcome> {
    const p = this.p;
    if (!p.lease.isLeader()) return 'not_leader';
    const key = actionKey('restart', ev.agentId, Date.parse(ev.at) || 0);
    if (await p.actions.isDone(key)) return 'already_done';
    const incidentKey = (
      await p.incidents.open('agent_down', `agent:${ev.agentId}`, `Agent ${ev.agentId} on ${ev.host} stopped heartbeating`, { agent: ev.agentId, agentId: ev.agentId, host: ev.host })
    ).id;
    let target: RuntimeTarget;
    try {
      target = await p.adapter.locate({ agentId: ev.agentId, host: ev.host, labels: ev.labels });
    } catch (e) {
      const refused = e instanceof RuntimeRefusedError;
      p.metrics?.restarted(refused ? 'refused' : 'failed');
      const message = refused ? `Not restarted: ${e.message}` : `Finding the agent through ${p.adapter.name} failed: ${(e as Error).message}`;
      const type = refused ? 'restart_refused' : 'restart_failed';
      await p.incidents.append(incidentKey, { type, message: message.slice(0, 500), detail: { adapter: p.adapter.name } });
      await p.actions.markDone(key, p.lease.epoch, { outcome: refused ? 'refused' : 'failed' });
      return refused ? 'refused' : 'failed';
    }
    const pool = target.pool;
    const decision = p.policy.next(pool);
    if (decision.action === 'exhausted') {
      p.metrics?.restarted('budget_exhausted');
      p.raiseAlert({
        name: 'RecoveryRestartBudgetExhausted',
        severity: 'critical',
        state: 'firing',
        labels: { agent: ev.agentId, pool, host: ev.host },
        annotations: { summary: `Pool ${pool} was restarted ${decision.restartsInWindow} times in the window; recovery stopped restarting it (agent ${ev.agentId})` },
        source: 'recovery',
      });
      await p.incidents.append(incidentKey, { type: 'restart_budget_exhausted', message: `Restart budget of pool ${pool} spent; not restarting`, detail: { pool, restartsInWindow: decision.restartsInWindow } });
      await p.actions.markDone(key, p.lease.epoch, { outcome: 'budget_exhausted' });
      return 'budget_exhausted';
    }
    if (decision.delayMs > 0) await p.delay(decision.delayMs);
    if (!p.lease.isLeader()) return 'lost_leadership';
    try {
      const r = await p.adapter.restart(target);
      p.metrics?.restarted('ok');
      await p.incidents.append(incidentKey, { type: 'restarted', message: r.action, detail: { adapter: p.adapter.name, pool, attempt: decision.attempt, delayMs: decision.delayMs } });
      await p.actions.markDone(key, p.lease.epoch, { outcome: 'restarted', action: r.action });
      return 'restarted';
    } catch (e) {
      p.metrics?.restarted('failed');
      await p.incidents.append(incidentKey, { type: 'restart_failed', message: `Restart through ${p.adapter.name} failed: ${(e as Error).message}`.slice(0, 500), detail: { pool, attempt: decision.attempt } });
      await p.actions.markDone(key, p.lease.epoch, { outcome: 'failed' });
      return 'failed';
    }
  }
}
