/**
 * Incident records in a JetStream KV bucket: `inc.<id>` holds the record (updated with
 * compare-and-set), `open.<key>` points at the one open incident for a key (created with
 * `create`, so two writers can't open two incidents for one failure).
 */
import type { KV } from '@nats-io/kv';
import type { Incident } from '@sb/contracts';

export interface IncidentStore {
  get(id: string): Promise<{ incident: Incident; revision: number } | undefined>;
  put(incident: Incident): Promise<void>;
  /** Replace at `revision`; false when someone else wrote first. */
  replace(incident: Incident, revision: number): Promise<boolean>;
  list(): Promise<Incident[]>;
  /** The open incidents only (through their open slots: resolved ones, kept for weeks, are not read). */
  listOpen(): Promise<Incident[]>;
  /** Claim the open slot for `key`; returns the id already holding it if there is one. */
  claimOpen(key: string, id: string): Promise<string | undefined>;
  openId(key: string): Promise<string | undefined>;
  releaseOpen(key: string): Promise<void>;
}

const enc = new TextEncoder();
const slot = (key: string) => `open.${Buffer.from(key).toString('base64url')}`;

export class KvIncidentStore implements IncidentStore {
  constructor(private readonly kv: KV) {}

  async get(id: string) {
    const e = await this.kv.get(`inc.${id}`);
    if (!e || e.operation !== 'PUT') return undefined;
    return { incident: e.json<Incident>(), revision: e.revision };
  }

  async put(incident: Incident): Promise<void> {
    await this.kv.put(`inc.${incident.id}`, enc.encode(JSON.stringify(incident)));
  }

  async replace(incident: Incident, revision: number): Promise<boolean> {
    try {
      await this.kv.update(`inc.${incident.id}`, enc.encode(JSON.stringify(incident)), revision);
      return true;
    } catch (e) {
      if (/wrong last sequence/i.test((e as Error).message)) return false;
      throw e;
    }
  }

  async list(): Promise<Incident[]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys('inc.*')) keys.push(k);
    const out: Incident[] = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (e && e.operation === 'PUT') out.push(e.json<Incident>());
    }
    return out;
  }

  async listOpen(): Promise<Incident[]> {
    const slots: string[] = [];
    for await (const k of await this.kv.keys('open.*')) slots.push(k);
    const out: Incident[] = [];
    for (const k of slots) {
      const slot = await this.kv.get(k);
      const cur = slot && slot.operation === 'PUT' ? await this.get(slot.string()) : undefined;
      if (cur?.incident.status === 'open') out.push(cur.incident);
    }
    return out;
  }

  async claimOpen(key: string, id: string): Promise<string | undefined> {
    try {
      await this.kv.create(slot(key), enc.encode(id));
      return undefined;
    } catch (e) {
      const held = await this.openId(key);
      if (held) return held;
      throw e;
    }
  }

  async openId(key: string): Promise<string | undefined> {
    const e = await this.kv.get(slot(key));
    return e && e.operation === 'PUT' ? e.string() : undefined;
  }

  async releaseOpen(key: string): Promise<void> {
    await this.kv.delete(slot(key));
  }
}

/** In-memory store with the same semantics, for unit tests. */
export class MemoryIncidentStore implements IncidentStore {
  private readonly recs = new Map<string, { incident: Incident; revision: number }>();
  private readonly open = new Map<string, string>();
  async get(id: string) {
    const r = this.recs.get(id);
    return r ? { incident: structuredClone(r.incident), revision: r.revision } : undefined;
  }
  async put(incident: Incident) {
    this.recs.set(incident.id, { incident: structuredClone(incident), revision: (this.recs.get(incident.id)?.revision ?? 0) + 1 });
  }
  async replace(incident: Incident, revision: number) {
    const cur = this.recs.get(incident.id);
    if (!cur || cur.revision !== revision) return false;
    this.recs.set(incident.id, { incident: structuredClone(incident), revision: revision + 1 });
    return true;
  }
  async list() {
    return [...this.recs.values()].map((r) => structuredClone(r.incident));
  }
  async listOpen() {
    return (await this.list()).filter((i) => i.status === 'open' && this.open.get(i.key) === i.id);
  }
  async claimOpen(key: string, id: string) {
    const held = this.open.get(key);
    if (held) return held;
    this.open.set(key, id);
    return undefined;
  }
  async openId(key: string) {
    return this.open.get(key);
  }
  async releaseOpen(key: string) {
    this.open.delete(key);
  }
}
