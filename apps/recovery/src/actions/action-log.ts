/**
 * What the leader has finished, in a KV bucket, so a new leader resumes instead of redoing:
 * an action key (e.g. `down.<agentId>.<atMs>`) is written `done` once its action completed.
 * An action a leader started but did not finish is redone by the next leader, so actions are
 * written to be idempotent (a CAS on a moved record and a delete of a gone pod are no-ops).
 */
import type { KV } from '@nats-io/kv';

export interface ActionRecord {
  state: 'done';
  at: string;
  epoch: number;
  detail?: Record<string, unknown>;
}

export interface ActionLog {
  isDone(key: string): Promise<boolean>;
  /** Record that an action started, with what a new leader needs to resume it. */
  savePending(key: string, payload: unknown): Promise<void>;
  /** Actions started and not finished (a leader died mid-way). */
  pending(): Promise<Array<{ key: string; payload: unknown }>>;
  /** Finished: never redone; its pending entry goes away. */
  markDone(key: string, epoch: number, detail?: Record<string, unknown>): Promise<void>;
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`; anything else becomes `_`. */
export const actionKey = (...parts: Array<string | number>): string => parts.map((p) => String(p).replace(/[^-/_=a-zA-Z0-9]/g, '_')).join('.');

export class KvActionLog implements ActionLog {
  constructor(private readonly kv: KV) {}

  async isDone(key: string): Promise<boolean> {
    const e = await this.kv.get(key);
    return !!e && e.operation === 'PUT' && e.json<ActionRecord>().state === 'done';
  }

  async savePending(key: string, payload: unknown): Promise<void> {
    await this.kv.put(`pending.${key}`, JSON.stringify(payload));
  }

  async pending(): Promise<Array<{ key: string; payload: unknown }>> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys('pending.>')) keys.push(k);
    const out: Array<{ key: string; payload: unknown }> = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (e && e.operation === 'PUT' && e.length > 0) out.push({ key: k.slice('pending.'.length), payload: e.json() });
    }
    return out;
  }

  async markDone(key: string, epoch: number, detail?: Record<string, unknown>): Promise<void> {
    const rec: ActionRecord = { state: 'done', at: new Date().toISOString(), epoch, detail };
    await this.kv.put(key, JSON.stringify(rec));
    await this.kv.delete(`pending.${key}`).catch(() => undefined);
  }
}

/** In-memory action log for unit tests and single-replica tools. */
export class MemoryActionLog implements ActionLog {
  readonly done = new Map<string, ActionRecord>();
  readonly started = new Map<string, unknown>();
  async isDone(key: string): Promise<boolean> {
    return this.done.has(key);
  }
  async savePending(key: string, payload: unknown): Promise<void> {
    this.started.set(key, payload);
  }
  async pending(): Promise<Array<{ key: string; payload: unknown }>> {
    return [...this.started].map(([key, payload]) => ({ key, payload }));
  }
  async markDone(key: string, epoch: number, detail?: Record<string, unknown>): Promise<void> {
    this.done.set(key, { state: 'done', at: new Date().toISOString(), epoch, detail });
    this.started.delete(key);
  }
}
