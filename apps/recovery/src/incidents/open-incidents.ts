/**
 * The open incidents, by the agent and the capability they are about: what the alert linker
 * matches alerts against, in memory. Read in full from the store when first needed and again
 * every REFRESH_MS (incidents another replica wrote), and kept current in between from the
 * changes this replica's IncidentLog makes (the leader makes them all). A mass failure's
 * thousands of alerts are then matched without a read each: reading every open incident for
 * every alert was millions of KV reads and hundreds of megabytes held at once.
 */
import type { Incident } from '@sb/contracts';
import type { IncidentLog } from './incident-log';

export const REFRESH_MS = 30_000;

export class OpenIncidents {
  private readonly byId = new Map<string, Incident>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly byCapability = new Map<string, Set<string>>();
  private loadedAt?: number;
  private loading?: Promise<void>;
  /** Changes heard while a read was under way: applied again over what it read (they are newer). */
  private heardWhileLoading: Incident[] = [];

  constructor(
    private readonly log: Pick<IncidentLog, 'openIncidents' | 'onChange'>,
    private readonly now: () => number = Date.now,
  ) {
    log.onChange((inc) => {
      this.apply(inc);
      if (this.loading) this.heardWhileLoading.push(inc);
    });
  }

  /** The open incidents about `agent` or `capability` (read first when never read, or read longer than REFRESH_MS ago). */
  async about(agents: readonly string[], capability: string | undefined): Promise<Incident[]> {
    if (this.loadedAt === undefined || this.now() - this.loadedAt > REFRESH_MS) await this.load();
    const ids = new Set<string>();
    for (const a of agents) for (const id of this.byAgent.get(a) ?? []) ids.add(id);
    if (capability) for (const id of this.byCapability.get(capability) ?? []) ids.add(id);
    return [...ids].map((id) => this.byId.get(id)!).filter(Boolean);
  }

  /** One read at a time; everyone asking meanwhile waits for it. */
  private load(): Promise<void> {
    this.loading ??= this.log
      .openIncidents()
      .then((open) => {
        for (const id of [...this.byId.keys()]) this.remove(id);
        for (const inc of open) this.apply(inc);
        for (const inc of this.heardWhileLoading) this.apply(inc);
        this.loadedAt = this.now();
      })
      .finally(() => {
        this.loading = undefined;
        this.heardWhileLoading = [];
      });
    return this.loading;
  }

  private apply(inc: Incident): void {
    this.remove(inc.id);
    if (inc.status !== 'open') return;
    this.byId.set(inc.id, inc);
    add(this.byAgent, inc.labels.agent, inc.id);
    add(this.byCapability, inc.labels.capability, inc.id);
  }

  private remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    drop(this.byAgent, old.labels.agent, id);
    drop(this.byCapability, old.labels.capability, id);
  }
}

function add(m: Map<string, Set<string>>, k: string | undefined, id: string): void {
  if (!k) return;
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(id);
}

function drop(m: Map<string, Set<string>>, k: string | undefined, id: string): void {
  const s = k ? m.get(k) : undefined;
  if (!s) return;
  s.delete(id);
  if (s.size === 0) m.delete(k!);
}
