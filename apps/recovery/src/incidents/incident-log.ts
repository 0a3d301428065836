/**
 * The incident API every recovery feature writes to (reclaim, restarts, breakers, shedding):
 *
 *   const inc = await log.open('breaker_open', 'capability:summarize', 'Breaker opened', { capability: 'summarize' });
 *   await log.append(inc.id, { type: 'breaker_opened', message: '5 consecutive failures' });
 *   await log.resolve('capability:summarize', 'Breaker closed');   // by id or by key
 *
 * `open` is idempotent per key (it returns the incident already open for that key), every
 * change is a compare-and-set on the stored record, and every change is announced on
 * `recoveryCore.incidentChanged(id)`.
 */
import { randomBytes } from 'node:crypto';
import type { Incident, IncidentEntry, IncidentKind, IncidentListRequest } from '@sb/contracts';
import type { IncidentStore } from './incident-store';

export type NewEntry = Omit<IncidentEntry, 'at'> & { at?: string };

const MAX_TIMELINE = 500;
const MAX_CAS = 16;

export class IncidentLog {
  private readonly listeners: Array<(incident: Incident) => void> = [];

  constructor(
    private readonly store: IncidentStore,
    private readonly announce: (incident: Incident) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Open an incident for `key`, or return the one already open for it. */
  async open(kind: IncidentKind, key: string, summary: string, labels: Record<string, string> = {}, first?: NewEntry): Promise<Incident> {
    const existing = await this.store.openId(key);
    if (existing) {
      const cur = await this.waitFor(existing);
      if (cur) return first ? ((await this.append(cur.id, first)) ?? cur) : cur;
    }
    const at = this.now().toISOString();
    const id = `inc_${this.now().getTime().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
    const incident: Incident = {
      id,
      kind,
      key,
      status: 'open',
      summary: summary.slice(0, 500),
      labels,
      openedAt: at,
      resolvedAt: null,
      alerts: [],
      timeline: [{ at, type: 'detected', message: summary.slice(0, 500) }, ...(first ? [{ ...first, at: first.at ?? at }] : [])],
    };
    const held = await this.store.claimOpen(key, id);
    if (held) {
      const cur = await this.waitFor(held);
      if (cur) return first ? ((await this.append(cur.id, first)) ?? cur) : cur;
    }
    await this.store.put(incident);
    this.changed(incident);
    return incident;
  }

  /** Add a timeline entry to an incident, by id or by the key of an open incident. */
  append(idOrKey: string, entry: NewEntry): Promise<Incident | undefined> {
    return this.change(idOrKey, (inc) => {
      inc.timeline.push({ ...entry, at: entry.at ?? this.now().toISOString() });
      if (inc.timeline.length > MAX_TIMELINE) inc.timeline.splice(1, inc.timeline.length - MAX_TIMELINE);
      return inc;
    });
  }

  /** Attach an alert (by fingerprint) once. */
  linkAlert(idOrKey: string, fingerprint: string, message: string): Promise<Incident | undefined> {
    return this.change(idOrKey, (inc) => {
      if (inc.alerts.includes(fingerprint)) return undefined;
      inc.alerts.push(fingerprint);
      inc.timeline.push({ at: this.now().toISOString(), type: 'alert_linked', message, detail: { fingerprint } });
      return inc;
    });
  }

  async resolve(idOrKey: string, message: string, detail?: Record<string, unknown>): Promise<Incident | undefined> {
    const done = await this.change(idOrKey, (inc) => {
      if (inc.status === 'resolved') return undefined;
      const at = this.now().toISOString();
      inc.status = 'resolved';
      inc.resolvedAt = at;
      inc.timeline.push({ at, type: 'resolved', message, detail });
      return inc;
    });
    if (done) await this.store.releaseOpen(done.key).catch(() => undefined);
    return done;
  }

  async get(id: string): Promise<Incident | undefined> {
    return (await this.store.get(id))?.incident;
  }

  /** The open incident for a key, if any. */
  async openFor(key: string): Promise<Incident | undefined> {
    const id = await this.store.openId(key);
    return id ? this.get(id) : undefined;
  }

  async list(q: IncidentListRequest): Promise<Incident[]> {
    const since = q.since ? Date.parse(q.since) : undefined;
    return (await this.store.list())
      .filter((i) => (!q.status || i.status === q.status) && (since === undefined || Date.parse(i.openedAt) >= since || (i.resolvedAt !== null && Date.parse(i.resolvedAt) >= since)))
      .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, q.limit);
  }

  /** Hear every change this log makes (as announced), e.g. to keep an index of open incidents. */
  onChange(listener: (incident: Incident) => void): void {
    this.listeners.push(listener);
  }

  private changed(incident: Incident): void {
    this.announce(incident);
    for (const l of this.listeners) l(incident);
  }

  /** Open incidents (for matching alerts to them). */
  openIncidents(): Promise<Incident[]> {
    return this.store.listOpen();
  }

  private async resolveId(idOrKey: string): Promise<string | undefined> {
    if (idOrKey.startsWith('inc_')) return idOrKey;
    return this.store.openId(idOrKey);
  }

  private async change(idOrKey: string, f: (inc: Incident) => Incident | undefined): Promise<Incident | undefined> {
    const id = await this.resolveId(idOrKey);
    if (!id) return undefined;
    for (let i = 0; i < MAX_CAS; i++) {
      const cur = await this.store.get(id);
      if (!cur) return undefined;
      const next = f(structuredClone(cur.incident));
      if (!next) return cur.incident;
      if (await this.store.replace(next, cur.revision)) {
        this.changed(next);
        return next;
      }
    }
    throw new Error(`incident ${id}: too many concurrent writers`);
  }

  /** The open slot may be claimed a moment before its record is written. */
  private async waitFor(id: string): Promise<Incident | undefined> {
    for (let i = 0; i < 20; i++) {
      const cur = await this.store.get(id);
      if (cur) return cur.incident;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  }
}
