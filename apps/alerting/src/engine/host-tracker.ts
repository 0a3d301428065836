/**
 * "Every agent of a host is down" as an alert of its own (HostDown{host}), so the default
 * inhibit rule can hold back the per-agent alerts it causes. Fed by liveness events; pure.
 */
import type { AgentLivenessEvent } from '@sb/contracts';

export type HostChange = { host: string; down: boolean } | null;

export class HostTracker {
  private readonly hosts = new Map<string, Map<string, boolean>>();

  /** `minAgents`: a host needs at least this many known agents to count as down (0 disables). */
  constructor(private readonly minAgents: number) {}

  /** Apply one event; returns the host's new down/up state when it may have changed. */
  apply(ev: AgentLivenessEvent): HostChange {
    if (this.minAgents <= 0 || !ev.host || ev.host === 'unknown') return null;
    let agents = this.hosts.get(ev.host);
    if (!agents) this.hosts.set(ev.host, (agents = new Map()));
    if (ev.state === 'left') agents.delete(ev.agentId);
    else agents.set(ev.agentId, ev.state === 'down');
    if (agents.size === 0) this.hosts.delete(ev.host);
    const all = [...agents.values()];
    return { host: ev.host, down: all.length >= this.minAgents && all.every(Boolean) };
  }
}
