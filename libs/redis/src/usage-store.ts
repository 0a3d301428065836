/**
 * Usage accounting in Redis: per tenant, per UTC day, per capability (tasks and tokens), plus
 * the tokens-today quota counter the submit gate reads. Recording is idempotent per task id, so
 * a redelivered final event is not counted twice.
 */
import type { Redis } from 'ioredis';
import type { RedisKeyspace } from './redis-keys';
import { RECORD_USAGE_COMMAND, RECORD_USAGE_LUA } from './submit-gate.script';
import { quotaKeys, utcDay } from './submit-gate';

/** Usage is kept this long (a report covers at most 31 days). */
export const USAGE_TTL_MS = 35 * 86_400_000;
const defined = new WeakSet<Redis>();
type Command = (k1: string, k2: string, k3: string, ...args: Array<string | number>) => Promise<number>;

export interface DayUsage {
  day: string;
  byCapability: Record<string, { tasks: number; tokens: number }>;
}

export class UsageStore {
  constructor(private readonly keyspace: RedisKeyspace<Redis>) {
    const c = keyspace.client;
    if (!defined.has(c)) {
      c.defineCommand(RECORD_USAGE_COMMAND, { lua: RECORD_USAGE_LUA, numberOfKeys: 3 });
      defined.add(c);
    }
  }

  /** Count one finished task; false if it was already counted. `at` picks the day. */
  async record(tenantId: string, taskId: string, capability: string, tokens: number, at: Date): Promise<boolean> {
    const { day, msLeft } = utcDay(at);
    const q = quotaKeys(this.keyspace, tenantId, day);
    const cmd = (this.keyspace.client as unknown as Record<string, Command>)[RECORD_USAGE_COMMAND];
    const r = await cmd.call(this.keyspace.client, this.keyspace.key('usage-seen', taskId), q.usage, q.tokens, capability, Math.max(0, Math.floor(tokens)), USAGE_TTL_MS, msLeft);
    return Number(r) === 1;
  }

  /** The last `days` UTC days, newest first. */
  async read(tenantId: string, days: number, now: Date): Promise<DayUsage[]> {
    const list = Array.from({ length: days }, (_, i) => utcDay(new Date(now.getTime() - i * 86_400_000)).day);
    const pipe = this.keyspace.client.pipeline();
    for (const d of list) pipe.hgetall(quotaKeys(this.keyspace, tenantId, d).usage);
    const res = (await pipe.exec()) ?? [];
    return list.map((day, i) => {
      const [err, h] = res[i] ?? [null, {}];
      if (err) throw err;
      const byCapability: DayUsage['byCapability'] = {};
      for (const [field, v] of Object.entries((h ?? {}) as Record<string, string>)) {
        const at = field.lastIndexOf(':');
        const cap = field.slice(0, at);
        const kind = field.slice(at + 1);
        const e = (byCapability[cap] ??= { tasks: 0, tokens: 0 });
        if (kind === 'tasks' || kind === 'tokens') e[kind] = Number(v);
      }
      return { day, byCapability };
    });
  }

  /** Today's counters (tasks submitted, tokens used). */
  async today(tenantId: string, now: Date): Promise<{ tasks: number; tokens: number }> {
    const q = quotaKeys(this.keyspace, tenantId, utcDay(now).day);
    const [tasks, tokens] = await this.keyspace.client.mget(q.tasks, q.tokens);
    return { tasks: Number(tasks ?? 0), tokens: Number(tokens ?? 0) };
  }
}
