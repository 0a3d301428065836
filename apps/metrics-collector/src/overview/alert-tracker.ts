/**
 * Active alerts, from every alert state change on `sb.v1.alerts.>`: firing, escalated and
 * acknowledged alerts are active (an acknowledged alert still fires), resolved ones are not.
 * Counted by severity and by the `agent` label, for the overview and the health score.
 */
import { type AlertEvent, emptyBySeverity, SEVERITIES, type Severity } from '@sb/contracts';

const MAX_TRACKED = 100_000;

export class AlertTracker {
  private readonly active = new Map<string, { severity: Severity; agent?: string }>();

  apply(ev: Partial<AlertEvent> | undefined): boolean {
    if (!ev || typeof ev.fingerprint !== 'string' || !SEVERITIES.includes(ev.severity as Severity)) return false;
    if (ev.state === 'resolved') {
      this.active.delete(ev.fingerprint);
      return true;
    }
    if (ev.state !== 'firing' && ev.state !== 'escalated' && ev.state !== 'acknowledged') return false;
    if (!this.active.has(ev.fingerprint) && this.active.size >= MAX_TRACKED) return false;
    const agent = typeof ev.labels?.agent === 'string' ? ev.labels.agent : undefined;
    this.active.set(ev.fingerprint, { severity: ev.severity as Severity, agent });
    return true;
  }

  bySeverity(): Record<Severity, number> {
    const out = emptyBySeverity();
    for (const a of this.active.values()) out[a.severity]++;
    return out;
  }

  get count(): number {
    return this.active.size;
  }

  forAgent(agentId: string): number {
    let n = 0;
    for (const a of this.active.values()) if (a.agent === agentId) n++;
    return n;
  }

  byAgent(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.active.values()) if (a.agent) out.set(a.agent, (out.get(a.agent) ?? 0) + 1);
    return out;
  }
}
