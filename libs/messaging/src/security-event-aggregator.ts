/**
 * A flood of refusals must not become a stored event per request (issue 12, #4). Alike events
 * (what happened, where, and who asked: type, transport, route, source, reason, key id, tenant,
 * agent) are aggregated per window:
 *  - the first is published at once, as it is (a lone refusal is seen without delay);
 *  - the rest of the window are counted, and published as one event with `count` (and `at` /
 *    `lastAt`: the first and the last of them) when the window ends;
 *  - an aggregate still busy at the end of its window stays open for the next one, so a steady
 *    flood is one event per window per aggregate; a quiet one is closed.
 * The sum of `count` (absent: 1) over the stream is the number of refusals, exactly.
 *
 * A credential's display parts (prefix, last 4) are not part of what makes events alike (a flood
 * of random tokens would otherwise never aggregate); an aggregate keeps them only while they agree.
 * Open aggregates are capped: beyond MAX_AGGREGATES, an event folds into one aggregate per type
 * and transport, so a flood under ever new sources is still counted, just not told apart.
 */
import type { SecurityEvent } from '@sb/contracts';

export type SecurityEventInput = Omit<SecurityEvent, 'at' | 'count' | 'lastAt'> & { at?: string };

export const SECURITY_EVENT_WINDOW_MS = 1_000;
export const MAX_AGGREGATES = 1_000;
export const FOLDED_REASON = 'more distinct sources than are told apart (folded)';

interface Aggregate {
  /** The first event counted in this window (none yet: only the one published at once). */
  first?: SecurityEvent;
  count: number;
  lastAt?: string;
}

export class SecurityEventAggregator {
  private readonly open = new Map<string, Aggregate>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly publish: (e: SecurityEvent) => void,
    private readonly windowMs = SECURITY_EVENT_WINDOW_MS,
    private readonly now: () => number = Date.now,
    private readonly maxAggregates = MAX_AGGREGATES,
  ) {}

  /** Aggregates open now (at most MAX_AGGREGATES, plus the folded ones). */
  get size(): number {
    return this.open.size;
  }

  record(input: SecurityEventInput): void {
    let event: SecurityEvent = { ...input, at: input.at ?? new Date(this.now()).toISOString() };
    let key = keyOf(event);
    let agg = this.open.get(key);
    if (!agg && this.open.size >= this.maxAggregates) {
      event = { type: event.type, transport: event.transport, at: event.at, reason: FOLDED_REASON };
      key = keyOf(event);
      agg = this.open.get(key);
    }
    if (!agg) {
      this.open.set(key, { count: 0 });
      this.arm();
      this.publish(event);
      return;
    }
    agg.count += 1;
    agg.lastAt = event.at;
    if (!agg.first) agg.first = event;
    else if (agg.first.keyPrefix !== event.keyPrefix || agg.first.keyLast4 !== event.keyLast4) {
      const { keyPrefix: _p, keyLast4: _l, ...rest } = agg.first;
      agg.first = rest;
    }
  }

  /** The window ended: publish what each aggregate counted; close the ones that counted nothing. */
  flush(): void {
    for (const [key, agg] of this.open) {
      if (!agg.first) {
        this.open.delete(key);
        continue;
      }
      const out: SecurityEvent = { ...agg.first, count: agg.count };
      if (agg.count > 1 && agg.lastAt) out.lastAt = agg.lastAt;
      agg.first = undefined;
      agg.count = 0;
      agg.lastAt = undefined;
      this.publish(out);
    }
    if (this.open.size === 0) this.disarm();
  }

  /** Publish what is counted and stop the window timer (shutdown). */
  stop(): void {
    this.flush();
    this.open.clear();
    this.disarm();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.windowMs);
    this.timer.unref?.();
  }

  private disarm(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function keyOf(e: SecurityEvent): string {
  return [e.type, e.transport, e.route, e.source, e.reason, e.tenantId, e.keyId, e.agentId].map((v) => v ?? '').join('\u0000');
}
