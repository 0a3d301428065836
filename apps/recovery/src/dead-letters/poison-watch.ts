/**
 * Recognises a poison task: the same fingerprint (capability + canonical input + final error
 * code) dead-lettering `threshold` times within `windowMs` raises a `PoisonTask` alert on
 * `alerts.raise` (once per fingerprint), resolved once the window passes without it. Pure
 * apart from the alert callback; the clock is injected.
 */
import type { DeadLetter, RaiseAlert } from '@sb/contracts';
import { fingerprint } from './fingerprint';

export interface PoisonPolicy {
  threshold: number;
  windowMs: number;
}

interface Seen {
  capability: string;
  code: string;
  times: number[];
  firing: boolean;
}

const MAX_TRACKED = 10_000;

export class PoisonWatch {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly policy: PoisonPolicy,
    private readonly raise: (a: RaiseAlert) => void,
  ) {}

  /** A new dead letter arrived. Returns its fingerprint and how often it was seen in the window. */
  observe(entry: DeadLetter, now: number): { fingerprint: string; count: number } {
    const code = entry.errors.at(-1)?.code ?? '';
    const fp = fingerprint(entry.task.capability, entry.task.input, code);
    let s = this.seen.get(fp);
    if (!s) {
      if (this.seen.size >= MAX_TRACKED) this.seen.delete(this.seen.keys().next().value as string);
      s = { capability: entry.task.capability, code, times: [], firing: false };
      this.seen.set(fp, s);
    }
    s.times = s.times.filter((t) => now - t < this.policy.windowMs);
    s.times.push(now);
    if (!s.firing && s.times.length >= this.policy.threshold) {
      s.firing = true;
      this.alert(fp, s, 'firing', now);
    }
    return { fingerprint: fp, count: s.times.length };
  }

  /** Time passing: fingerprints quiet for a whole window resolve and are forgotten. */
  tick(now: number): void {
    for (const [fp, s] of this.seen) {
      s.times = s.times.filter((t) => now - t < this.policy.windowMs);
      if (s.times.length > 0) continue;
      if (s.firing) this.alert(fp, s, 'resolved', now);
      this.seen.delete(fp);
    }
  }

  private alert(fp: string, s: Seen, state: 'firing' | 'resolved', now: number): void {
    this.raise({
      name: 'PoisonTask',
      severity: 'warning',
      state,
      labels: { capability: s.capability, fingerprint: fp },
      annotations: {
        summary: state === 'firing' ? `The same ${s.capability} input dead-lettered ${s.times.length} times` : `Poison input for ${s.capability} stopped recurring`,
        description: `Final error ${s.code || '(none)'}; see GET /v1/dead-letters?capability=${s.capability} (fingerprint ${fp})`,
      },
      source: 'recovery',
      at: new Date(now).toISOString(),
    });
  }
}
