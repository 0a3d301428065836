/** Channel records in a KV bucket (one key per channel id), changed under compare-and-set. */
import { setTimeout as delay } from 'node:timers/promises';
import type { KV } from '@nats-io/kv';
import type { NotificationChannel } from '@sb/contracts';
import { isWrongRevision } from '@sb/tasks';

export interface ChannelStore {
  get(id: string): Promise<NotificationChannel | undefined>;
  list(): Promise<NotificationChannel[]>;
  /** False if the id exists. */
  insert(c: NotificationChannel): Promise<boolean>;
  /** Read-modify-write under compare-and-set; undefined if the channel does not exist. `change` may throw to refuse. */
  update(id: string, change: (c: NotificationChannel) => NotificationChannel): Promise<NotificationChannel | undefined>;
  /** The deleted record, or undefined if there was none. */
  remove(id: string): Promise<NotificationChannel | undefined>;
}

export type ChannelChange = { id: string; channel: NotificationChannel | undefined };

const MAX_CAS_ATTEMPTS = 20;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvChannelStore implements ChannelStore {
  constructor(readonly kv: KV) {}

  async get(id: string): Promise<NotificationChannel | undefined> {
    const e = await this.kv.get(id);
    return e && e.operation === 'PUT' && e.length > 0 ? parse(e.value) : undefined;
  }

  async list(): Promise<NotificationChannel[]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) keys.push(k);
    const all = await Promise.all(keys.map((k) => this.get(k)));
    return all.filter((c): c is NotificationChannel => c !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async insert(c: NotificationChannel): Promise<boolean> {
    try {
      await this.kv.create(c.id, enc.encode(JSON.stringify(c)));
      return true;
    } catch (e) {
      if (isWrongRevision(e) || /exists/i.test((e as Error).message)) return false;
      throw e;
    }
  }

  async update(id: string, change: (c: NotificationChannel) => NotificationChannel): Promise<NotificationChannel | undefined> {
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const e = await this.kv.get(id);
      if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
      const next = change(parse(e.value));
      try {
        await this.kv.update(id, enc.encode(JSON.stringify(next)), e.revision);
        return next;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        await delay(Math.random() * 5 * (i + 1));
      }
    }
    throw new Error(`channel ${id}: too many concurrent writers`);
  }

  async remove(id: string): Promise<NotificationChannel | undefined> {
    const e = await this.kv.get(id);
    if (!e || e.operation !== 'PUT' || e.length === 0) return undefined;
    await this.kv.delete(id, { previousSeq: e.revision }).catch((err: unknown) => {
      if (!isWrongRevision(err)) throw err;
    });
    return parse(e.value);
  }

  /** Every channel now, then every change, until `signal` aborts. */
  async watch(onChange: (c: ChannelChange) => void, signal: AbortSignal): Promise<void> {
    const it = await this.kv.watch();
    signal.addEventListener('abort', () => it.stop(), { once: true });
    for await (const e of it) {
      const channel = e.operation === 'PUT' && e.length > 0 ? parse(e.value) : undefined;
      onChange({ id: e.key, channel });
    }
  }
}

function parse(v: Uint8Array): NotificationChannel {
  return JSON.parse(dec.decode(v)) as NotificationChannel;
}
