/**
 * One acting recovery replica at a time: a lease record in a JetStream KV bucket, written
 * only with compare-and-set on its revision.
 *
 * - Acquire: `create` the key (first leader ever) or `update` it at the revision a candidate
 *   last saw, once that revision has stayed unchanged for `leaseMs` by the candidate's own
 *   clock (or the record says nobody holds it). Every acquisition bumps `epoch`.
 * - Renew: the leader rewrites the record every `leaseMs / 3` at its own last revision; a failed
 *   CAS (someone took over), an error, a NATS disconnect, or no successful renew for
 *   `leaseMs * 0.8` (measured from when the renew was SENT) ends leadership at once.
 *   Candidates count `leaseMs` from when they OBSERVED a revision, which is after it was
 *   written, so an old leader stops acting before a new one can start (no clock sync needed).
 * - Release: a graceful stop writes `holder: null` so a candidate takes over on its next poll.
 *
 * The breakers/shedding code and every recovery action consume this through `isLeader()`,
 * `onChange()` and `epoch` (a fencing token: strictly increasing across leaders).
 */
export interface LeaseRecord {
  holder: string | null;
  epoch: number;
  renewedAt: string;
}

/** The KV operations the lease needs (see KvLeaseStore for the JetStream implementation). */
export interface LeaseStore {
  get(): Promise<{ record: LeaseRecord; revision: number } | null>;
  /** Create the key; throws if it exists. Returns the new revision. */
  create(record: LeaseRecord): Promise<number>;
  /** Update only if the key is at `revision`; throws otherwise. Returns the new revision. */
  update(record: LeaseRecord, revision: number): Promise<number>;
}

export interface LeaderLeaseOptions {
  /** This replica's id (written into the record as the holder). */
  replicaId: string;
  leaseMs: number;
  /** How often a candidate looks at the record (default leaseMs / 10, at least 50 ms). */
  pollMs?: number;
  now?: () => number;
  onError?: (err: unknown, during: 'acquire' | 'renew' | 'release') => void;
}

type Listener = (leader: boolean) => void;

export class LeaderLease {
  private leader = false;
  private currentEpoch = 0;
  private revision = 0;
  /** Candidate view: the last revision seen and when (own clock) it was first seen. */
  private seen: { revision: number; at: number } | null = null;
  /** Leader view: acting is allowed until this time (own clock). */
  private validUntil = 0;
  private lastRenewAt = 0;
  private readonly listeners = new Set<Listener>();
  private timer?: NodeJS.Timeout;
  private busy = false;
  private stopped = true;
  readonly replicaId: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: LeaseStore,
    private readonly options: LeaderLeaseOptions,
  ) {
    this.replicaId = options.replicaId;
    this.leaseMs = options.leaseMs;
    this.pollMs = options.pollMs ?? Math.max(50, Math.floor(options.leaseMs / 10));
    this.now = options.now ?? Date.now;
  }

  /** True only while this replica holds an unexpired lease. Check it right before every action. */
  isLeader(): boolean {
    if (this.leader && this.now() >= this.validUntil) this.setLeader(false);
    return this.leader;
  }

  /** The fencing token of the current (or last) leadership this replica held or saw. */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** Called with `true` on gaining and `false` on losing leadership. Returns an unsubscribe. */
  onChange(cb: Listener): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Start the poll/renew loop. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = (): void => {
      if (this.stopped) return;
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.pollMs);
      });
    };
    loop();
  }

  /** Stop; a leader hands the lease back so a candidate takes over without waiting it out. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const wasLeader = this.leader;
    this.setLeader(false);
    if (release && wasLeader) {
      try {
        this.revision = await this.store.update({ holder: null, epoch: this.currentEpoch, renewedAt: new Date(this.now()).toISOString() }, this.revision);
      } catch (e) {
        this.options.onError?.(e, 'release');
      }
    }
  }

  /** The connection dropped: stop acting now; the next tick will try to get the lease back. */
  connectionLost(): void {
    this.setLeader(false);
    this.seen = null;
  }

  /** One step of the loop (public so tests can drive it with a fake clock). */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.isLeader()) await this.renewIfDue();
      else await this.tryAcquire();
    } finally {
      this.busy = false;
    }
  }

  private async renewIfDue(): Promise<void> {
    const now = this.now();
    if (now - this.lastRenewAt < this.leaseMs / 3) return;
    try {
      this.revision = await this.store.update(this.record(this.currentEpoch, now), this.revision);
      this.lastRenewAt = now;
      this.validUntil = now + this.leaseMs * 0.8;
    } catch (e) {
      this.options.onError?.(e, 'renew');
      this.setLeader(false);
      this.seen = null;
    }
  }

  private async tryAcquire(): Promise<void> {
    const sentAt = this.now();
    try {
      const current = await this.store.get();
      if (!current) {
        this.revision = await this.store.create(this.record(1, sentAt));
        this.becomeLeader(1, sentAt);
        return;
      }
      const { record, revision } = current;
      this.currentEpoch = Math.max(this.currentEpoch, record.epoch);
      const at = this.now();
      if (!this.seen || this.seen.revision !== revision) this.seen = { revision, at };
      const free = record.holder === null;
      const expired = at - this.seen.at >= this.leaseMs;
      if (!free && !expired) return;
      const epoch = record.epoch + 1;
      this.revision = await this.store.update(this.record(epoch, sentAt), revision);
      this.becomeLeader(epoch, sentAt);
    } catch (e) {
      // Lost a race to another candidate, or NATS is unreachable: stay a candidate.
      this.seen = null;
      this.options.onError?.(e, 'acquire');
    }
  }

  private becomeLeader(epoch: number, sentAt: number): void {
    this.currentEpoch = epoch;
    this.lastRenewAt = sentAt;
    this.validUntil = sentAt + this.leaseMs * 0.8;
    this.seen = null;
    this.setLeader(true);
  }

  private record(epoch: number, now: number): LeaseRecord {
    return { holder: this.replicaId, epoch, renewedAt: new Date(now).toISOString() };
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    for (const cb of this.listeners) {
      try {
        cb(v);
      } catch (e) {
        this.options.onError?.(e, v ? 'acquire' : 'renew');
      }
    }
  }
}
