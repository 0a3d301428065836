/**
 * A load that runs until the scenario says stop (not for a fixed time): `sleep` tasks submitted
 * at LOAD's rate through the gateway's NATS intake, each submit timed. A scenario awaits what it
 * needs of it ("a submit sent after the kill was accepted", "ten accepted after the restart")
 * instead of guessing how long a disruption lasts. Bounded: it stops by itself after `maxMs`.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { names } from '@sb/contracts';
import { LOAD, type Observer } from './chaos-load';
import type { ChaosFleetWorld } from './chaos-world';

export interface Submit {
  sentAt: number;
  answeredAt?: number;
  /** Set when the reply was `queued`: the task is accepted, and must never be lost. */
  taskId?: string;
  /** The refusal: an error code from the reply headers, or the client's error (a timeout). */
  refusal?: string;
}

export class OpenLoad {
  readonly submits: Submit[] = [];
  private stopped = false;
  private readonly done: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: Array<() => void> = [];

  constructor(
    private readonly world: ChaosFleetWorld,
    private readonly obs: Observer,
    /** Upper bound of the whole load (a scenario that never says stop still ends). */
    maxMs = 180_000,
    /** Each submit's own time limit: a refusal after that. */
    private readonly submitTimeoutMs = 5_000,
  ) {
    this.done = this.run(maxMs);
  }

  /** Submits answered `queued`, in the order they were sent. */
  accepted(): Submit[] {
    return this.submits.filter((s) => s.taskId);
  }

  refused(): Submit[] {
    return this.submits.filter((s) => s.answeredAt !== undefined && !s.taskId);
  }

  /** Resolves with the first `n` accepted submits that were sent at or after `since`, once there are that many. */
  async acceptedSince(since: number, n: number, timeoutMs: number, what: string): Promise<Submit[]> {
    const pick = () => this.accepted().filter((s) => s.sentAt >= since).sort((a, b) => a.answeredAt! - b.answeredAt!).slice(0, n);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = pick();
      if (got.length >= n) return got;
      const left = deadline - Date.now();
      if (left <= 0 || this.stopped) {
        const late = this.submits.filter((s) => s.sentAt >= since);
        const codes = [...new Set(late.map((s) => s.refusal).filter(Boolean))].join(', ');
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${got.length}/${n} accepted of ${late.length} sent since (refusals: ${codes || 'none'})`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1_000));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Stop submitting and wait for the replies still due. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(maxMs: number): Promise<void> {
    const n = names(this.world.prefix);
    const interval = 1000 / LOAD.ratePerSec;
    const start = Date.now();
    for (let i = 0; !this.stopped && Date.now() - start < maxMs; i++) {
      const h = natsHeaders();
      h.set('Authorization', `Bearer ${this.world.key}`);
      const ms = LOAD.sleepMs[0] + Math.floor(Math.random() * (LOAD.sleepMs[1] - LOAD.sleepMs[0]));
      const body = new TextEncoder().encode(JSON.stringify({ capability: 'sleep', input: { ms }, timeoutMs: 300_000, priority: 'normal' }));
      const s: Submit = { sentAt: Date.now() };
      this.submits.push(s);
      const p = this.world.nc
        .request(n.tasks.submit, body, { headers: h, timeout: this.submitTimeoutMs })
        .then((r) => {
          const code = r.headers?.get('Nats-Service-Error-Code');
          const reply = code ? undefined : r.json<{ taskId?: string; status?: string }>();
          if (reply?.taskId && reply.status === 'queued') {
            s.taskId = reply.taskId;
            this.obs.trace(reply.taskId);
          } else s.refusal = code || `reply ${r.string().slice(0, 80)}`;
        })
        .catch((e: unknown) => void (s.refusal = (e as Error).name || 'error'))
        .finally(() => {
          s.answeredAt = Date.now();
          this.inFlight.delete(p);
          for (const w of this.waiters.splice(0)) w();
        });
      this.inFlight.add(p);
      const next = start + (i + 1) * interval;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    this.stopped = true;
    await Promise.all([...this.inFlight]);
  }
}
