/**
 * CRUD over one configuration bucket (rules, silences, escalation policies), read from the
 * watched in-memory copy every replica keeps. Unknown ids are 404; concurrent edits are
 * compare-and-set, so neither is lost silently.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { WatchedKv } from '../store/watched-kv';

export interface Stamped {
  id: string;
  createdAt: string;
  updatedAt: string;
}

export class ConfigCollection<I, T extends Stamped> {
  constructor(
    readonly kv: WatchedKv<T>,
    private readonly what: string,
    private readonly idPrefix: string,
    private readonly clock: Clock,
    private readonly build: (input: I, stamp: Stamped, prev: T | undefined) => T,
  ) {}

  newId(): string {
    return `${this.idPrefix}_${this.clock.now().toString(36)}${randomBytes(5).toString('hex')}`;
  }

  async create(input: I, id = this.newId()): Promise<T> {
    const at = new Date(this.clock.now()).toISOString();
    const rec = this.build(input, { id, createdAt: at, updatedAt: at }, undefined);
    if (!(await this.kv.create(id, rec))) throw new ConflictError(`${this.what} ${id} already exists`);
    return rec;
  }

  async get(id: string): Promise<T> {
    let e = this.kv.get(id);
    if (!e) {
      await this.kv.refresh(id); // created a moment ago through another replica
      e = this.kv.get(id);
    }
    if (!e) throw new NotFoundError(`${this.what} ${id} not found`);
    return e.value;
  }

  /** Every record (internal marker keys, which contain a dot, are skipped). */
  list(): T[] {
    return this.kv
      .keys()
      .filter((k) => !k.includes('.'))
      .map((k) => this.kv.get(k)!.value)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async update(id: string, input: I): Promise<T> {
    await this.get(id);
    const now = new Date(this.clock.now()).toISOString();
    const res = await this.kv.mutate(id, (cur) => (cur ? this.build(input, { id, createdAt: cur.createdAt, updatedAt: now }, cur) : undefined));
    if (!res?.next) throw new NotFoundError(`${this.what} ${id} not found`);
    return res.next;
  }

  async delete(id: string): Promise<{ id: string; deleted: true }> {
    await this.get(id);
    const res = await this.kv.mutate(id, (cur) => (cur ? null : undefined));
    if (!res) throw new NotFoundError(`${this.what} ${id} not found`);
    return { id, deleted: true };
  }
}
