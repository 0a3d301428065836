/**
 * The Redis side of liveness (see liveness.scripts.ts). One round trip per heartbeat batch and
 * per sweep; nothing here scans keys.
 */
import type { RedisKeyspace } from '@sb/redis';
import type { Redis } from 'ioredis';
import { BEAT_LUA, LEAVE_LUA, REGISTER_LUA, SWEEP_LUA } from './liveness.scripts';

export interface PendingBeat {
  agentId: string;
  deadline: number;
}

export interface ClaimedDown {
  agentId: string;
  deadline: number;
}

export type SweepResult = { kind: 'rearmed'; count: number } | { kind: 'claimed'; down: ClaimedDown[] };

/** What the liveness logic needs from storage: the port the handlers are tested against. */
export interface LivenessPort {
  beat(now: number, beats: PendingBeat[]): Promise<string[]>;
  sweep(now: number, limit: number, gapMs: number, graceMs: number): Promise<SweepResult>;
  register(agentId: string, deadline: number): Promise<string>;
  leave(agentId: string): Promise<boolean>;
  forget(agentId: string): Promise<void>;
  /** Agents with a live deadline, and agents marked down (for boot-time state). */
  snapshot(): Promise<{ live: Map<string, number>; down: Set<string> }>;
}

type ScriptClient = Redis & {
  sbFleetBeat(...args: Array<string | number>): Promise<string[]>;
  sbFleetSweep(...args: Array<string | number>): Promise<string[]>;
  sbFleetRegister(...args: Array<string | number>): Promise<string>;
  sbFleetLeave(...args: Array<string | number>): Promise<number>;
};

export class RedisLivenessStore implements LivenessPort {
  private readonly c: ScriptClient;
  private readonly keys: [string, string, string];

  constructor(redis: RedisKeyspace<Redis>) {
    const c = redis.client as ScriptClient;
    if (typeof c.sbFleetBeat !== 'function') {
      c.defineCommand('sbFleetBeat', { lua: BEAT_LUA, numberOfKeys: 2 });
      c.defineCommand('sbFleetSweep', { lua: SWEEP_LUA, numberOfKeys: 3 });
      c.defineCommand('sbFleetRegister', { lua: REGISTER_LUA, numberOfKeys: 2 });
      c.defineCommand('sbFleetLeave', { lua: LEAVE_LUA, numberOfKeys: 2 });
    }
    this.c = c;
    this.keys = [redis.key('fleet', 'live'), redis.key('fleet', 'state'), redis.key('fleet', 'sweep')];
  }

  async beat(now: number, beats: PendingBeat[]): Promise<string[]> {
    if (beats.length === 0) return [];
    const args: Array<string | number> = [this.keys[0], this.keys[1], now];
    for (const b of beats) args.push(b.agentId, b.deadline);
    return this.c.sbFleetBeat(...args);
  }

  async sweep(now: number, limit: number, gapMs: number, graceMs: number): Promise<SweepResult> {
    const r = await this.c.sbFleetSweep(...this.keys, now, limit, gapMs, graceMs);
    if (r[0] === 'rearmed') return { kind: 'rearmed', count: Number(r[1]) };
    const down: ClaimedDown[] = [];
    for (let i = 1; i + 1 < r.length; i += 2) down.push({ agentId: r[i], deadline: Number(r[i + 1]) });
    return { kind: 'claimed', down };
  }

  register(agentId: string, deadline: number): Promise<string> {
    return this.c.sbFleetRegister(this.keys[0], this.keys[1], agentId, deadline);
  }

  async leave(agentId: string): Promise<boolean> {
    return (await this.c.sbFleetLeave(this.keys[0], this.keys[1], agentId)) === 1;
  }

  async forget(agentId: string): Promise<void> {
    await this.c.multi().zrem(this.keys[0], agentId).hdel(this.keys[1], agentId).exec();
  }

  async snapshot(): Promise<{ live: Map<string, number>; down: Set<string> }> {
    const [flat, states] = await Promise.all([this.c.zrange(this.keys[0], '0', '-1', 'WITHSCORES'), this.c.hgetall(this.keys[1])]);
    const live = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) live.set(flat[i], Number(flat[i + 1]));
    return { live, down: new Set(Object.entries(states).filter(([, s]) => s === 'down').map(([id]) => id)) };
  }
}
