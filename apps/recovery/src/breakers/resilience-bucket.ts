/**
 * The KV bucket where the recovery leader keeps the current breaker and shedding states, so
 * a gateway or worker that (re)starts learns them at once (they watch it), and a new leader
 * carries on from them. Keys: `breaker.agent.<agentId>.<capability>`,
 * `breaker.capability.<capability>`, `shed.<capability>`.
 */
import type { KV } from '@nats-io/kv';
import type { BreakerState, ShedState } from '@sb/contracts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const breakerKey = (s: Pick<BreakerState, 'scope' | 'agentId' | 'capability'>): string =>
  s.scope === 'agent' ? `breaker.agent.${s.agentId}.${s.capability}` : `breaker.capability.${s.capability}`;
export const shedKey = (capability: string): string => `shed.${capability}`;

export class ResilienceBucket {
  constructor(readonly kv: KV) {}

  async putBreaker(s: BreakerState): Promise<void> {
    await this.kv.put(breakerKey(s), enc.encode(JSON.stringify(s)));
  }

  async deleteBreaker(s: BreakerState): Promise<void> {
    await this.kv.delete(breakerKey(s));
  }

  async putShed(s: ShedState): Promise<void> {
    await this.kv.put(shedKey(s.capability), enc.encode(JSON.stringify(s)));
  }

  async breakers(): Promise<BreakerState[]> {
    return this.read<BreakerState>('breaker.>');
  }

  async sheds(): Promise<ShedState[]> {
    return this.read<ShedState>('shed.*');
  }

  private async read<T>(filter: string): Promise<T[]> {
    const out: T[] = [];
    const keys: string[] = [];
    for await (const k of await this.kv.keys(filter)) keys.push(k);
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT' || e.length === 0) continue;
      try {
        out.push(JSON.parse(dec.decode(e.value)) as T);
      } catch {
        // not ours: skip
      }
    }
    return out;
  }
}
