/**
 * Links alerts to the incidents they are about: an alert whose labels name an open
 * incident's agent (`agent`, `agentId`, `agent_id`), host or capability gets its fingerprint
 * attached (once) with a timeline entry.
 */
import type { AlertEvent, Incident } from '@sb/contracts';
import type { IncidentLog } from './incident-log';

const AGENT_LABELS = ['agent', 'agentId', 'agent_id'];

export function matches(incident: Incident, alert: Pick<AlertEvent, 'labels'>): boolean {
  const a = alert.labels ?? {};
  const agent = incident.labels.agent;
  if (agent && AGENT_LABELS.some((l) => a[l] === agent)) return true;
  const cap = incident.labels.capability;
  if (cap && a.capability === cap && !AGENT_LABELS.some((l) => a[l] && a[l] !== incident.labels.agent)) return true;
  return false;
}

export class AlertLinker {
  constructor(
    private readonly incidents: IncidentLog,
    private readonly lease: { isLeader(): boolean },
  ) {}

  /** An alert state change (undefined: a body that was not JSON, ignored). Leader only. */
  async onAlert(alert: AlertEvent | undefined): Promise<string[]> {
    if (!this.lease.isLeader() || !alert?.fingerprint) return [];
    const linked: string[] = [];
    for (const inc of await this.incidents.openIncidents()) {
      if (inc.alerts.includes(alert.fingerprint) || !matches(inc, alert)) continue;
      await this.incidents.linkAlert(inc.id, alert.fingerprint, `Alert ${alert.name} (${alert.severity}, ${alert.state})`);
      linked.push(inc.id);
    }
    return linked;
  }
}
