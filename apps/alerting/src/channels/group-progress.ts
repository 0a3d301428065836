/**
 * Per channel and alert group, the creation time of the newest notification delivered. A
 * delivery older than that is superseded: retries and fan-out can reorder one group's
 * notifications, and a late trigger must not reopen what a later resolve closed. Kept in a KV
 * bucket (shared by replicas), keys `<channelId>.<sha256(groupKey)>`, entries expire after a week.
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { isWrongRevision } from '@sb/tasks';

export interface GroupProgressPort {
  /** createdAt (ISO) of the newest notification delivered for this group, if any. */
  latest(channelId: string, groupKey: string): Promise<string | undefined>;
  /** Record a delivery; keeps the newest. */
  delivered(channelId: string, groupKey: string, createdAt: string): Promise<void>;
}

const MAX_CAS_ATTEMPTS = 5;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvGroupProgress implements GroupProgressPort {
  constructor(private readonly kv: KV) {}

  private key(channelId: string, groupKey: string): string {
    return `${channelId}.${createHash('sha256').update(groupKey).digest('hex').slice(0, 32)}`;
  }

  async latest(channelId: string, groupKey: string): Promise<string | undefined> {
    const e = await this.kv.get(this.key(channelId, groupKey));
    return e && e.operation === 'PUT' && e.length > 0 ? dec.decode(e.value) : undefined;
  }

  async delivered(channelId: string, groupKey: string, createdAt: string): Promise<void> {
    const key = this.key(channelId, groupKey);
    for (let i = 0; i < MAX_CAS_ATTEMPTS; i++) {
      const e = await this.kv.get(key);
      const current = e && e.operation === 'PUT' && e.length > 0 ? dec.decode(e.value) : undefined;
      if (current !== undefined && current >= createdAt) return;
      try {
        if (e) await this.kv.update(key, enc.encode(createdAt), e.revision);
        else await this.kv.create(key, enc.encode(createdAt));
        return;
      } catch (err) {
        if (!isWrongRevision(err) && !/exists/i.test((err as Error).message)) throw err;
      }
    }
  }
}

/** ISO-8601 UTC timestamps of the same format compare as strings; normalise so they do. */
export function normalisedTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString();
}
