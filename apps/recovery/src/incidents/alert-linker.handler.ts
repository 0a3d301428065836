/**
 * Links alerts to the incidents they are about: an alert whose labels name an open
 * incident's agent (`agent`, `agentId`, `agent_id`), host or capability gets its fingerprint
 * attached (once) with a timeline entry.
 *
 * A mass failure brings thousands of alerts at once, and as many open incidents. Alerts are
 * matched against the open incidents kept in memory (OpenIncidents), not read from the store
 * for each alert, and LINK_SLOTS of them are linked at a time (the rest wait their turn). An
 * agent's incident not known there yet (another replica opened it a moment ago) is read by its
 * key, which is how an agent's down alert and the incident its down event opened always meet.
 */
import type { AlertEvent, Incident } from '@sb/contracts';
import { type WorkSlots, workSlots } from '@sb/messaging';
import type { IncidentLog } from './incident-log';
import { OpenIncidents } from './open-incidents';

const AGENT_LABELS = ['agent', 'agentId', 'agent_id'];
/** Alerts linked at the same time. */
export const LINK_SLOTS = 16;

export function matches(incident: Incident, alert: Pick<AlertEvent, 'labels'>): boolean {
  const a = alert.labels ?? {};
  const agent = incident.labels.agent;
  if (agent && AGENT_LABELS.some((l) => a[l] === agent)) return true;
  const cap = incident.labels.capability;
  if (cap && a.capability === cap && !AGENT_LABELS.some((l) => a[l] && a[l] !== incident.labels.agent)) return true;
  return false;
}

export class AlertLinker {
  private readonly open: OpenIncidents;

  constructor(
    private readonly incidents: Pick<IncidentLog, 'openIncidents' | 'onChange' | 'openFor' | 'linkAlert'>,
    private readonly lease: { isLeader(): boolean },
    now: () => number = Date.now,
    private readonly slots: WorkSlots = workSlots(LINK_SLOTS),
  ) {
    this.open = new OpenIncidents(incidents, now);
  }

  /** An alert state change (undefined: a body that was not JSON, ignored). Leader only. */
  async onAlert(alert: AlertEvent | undefined): Promise<string[]> {
    if (!this.lease.isLeader() || !alert?.fingerprint) return [];
    return this.slots(() => this.link(alert));
  }

  private async link(alert: AlertEvent): Promise<string[]> {
    const labels = alert.labels ?? {};
    const agents = AGENT_LABELS.map((l) => labels[l]).filter((v): v is string => typeof v === 'string' && v.length > 0);
    const candidates = await this.open.about(agents, labels.capability);
    if (agents.length > 0 && !candidates.some((i) => i.key === `agent:${agents[0]}`)) {
      const own = await this.incidents.openFor(`agent:${agents[0]}`);
      if (own) candidates.push(own);
    }
    const linked: string[] = [];
    for (const inc of candidates) {
      if (inc.alerts.includes(alert.fingerprint) || !matches(inc, alert)) continue;
      await this.incidents.linkAlert(inc.id, alert.fingerprint, `Alert ${alert.name} (${alert.severity}, ${alert.state})`);
      linked.push(inc.id);
    }
    return linked;
  }
}
