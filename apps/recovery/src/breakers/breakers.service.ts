/**
 * Runs the breaker board on the recovery leader: every replica hears the workers' outcome
 * batches (Events.outcomes, breakers.nats.ts), only the leader feeds them to the board
 * (restored from the bucket when it takes over) and ticks it. Each change is written to the
 * bucket, broadcast on `resilience.breakers` and turned into metrics, alerts and incident entries.
 */
import { type BreakerState, type ErrorClass, OutcomeBatchSchema } from '@sb/contracts';
import type { Bus, NatsClient } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { BreakerBoard, type BoardPolicy } from './breaker-board';
import type { BreakerSignals } from './breaker-signals';
import type { ResilienceBucket } from './resilience-bucket';

/** What the breakers need of the leader lease (apps/recovery/src/leader/leader-lease.ts). */
export interface LeaderView {
  isLeader(): boolean;
  onChange(cb: (leader: boolean) => void): () => void;
  readonly epoch: number;
}

export interface BreakersOptions {
  policy: BoardPolicy;
  tickMs: number;
  now?: () => number;
}

export class BreakersService {
  private board: BreakerBoard;
  private timer?: NodeJS.Timeout;
  private offLeader?: () => void;
  private readonly now: () => number;
  /** Agents' capabilities as their batches report them (for capacity). */
  onBatch?: (agentId: string, capabilities: string[]) => void;

  constructor(
    private readonly client: NatsClient,
    private readonly bus: Bus,
    private readonly leader: LeaderView,
    private readonly bucket: ResilienceBucket,
    private readonly signals: BreakerSignals,
    private readonly opts: BreakersOptions,
    private readonly logger: AppLogger,
  ) {
    this.now = opts.now ?? Date.now;
    this.board = new BreakerBoard(opts.policy, () => leader.epoch);
  }

  /** A worker's outcome batch (any body: one that is not a batch is dropped). Every replica learns capabilities; the leader judges. */
  onOutcomes(body: unknown): void {
    const parsed = OutcomeBatchSchema.safeParse(body);
    if (!parsed.success) return;
    this.onBatch?.(parsed.data.agentId, parsed.data.capabilities);
    if (!this.leader.isLeader()) return;
    this.emit(this.board.ingest(parsed.data, this.now()));
  }

  /** Follows the leadership: the leader restores the board and ticks it. */
  async start(): Promise<void> {
    this.offLeader = this.leader.onChange((isLeader) => void this.leadershipChanged(isLeader));
    if (this.leader.isLeader()) await this.leadershipChanged(true);
  }

  stop(): void {
    this.offLeader?.();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** For capacity: is this agent's breaker for the capability open (it takes no work)? */
  isOpen(agentId: string, capability: string): boolean {
    return this.board.stateOf(agentId, capability) === 'open';
  }

  /** Drive time by hand (tests); the leader's timer calls it every tickMs. */
  tick(): void {
    if (this.leader.isLeader()) this.emit(this.board.tick(this.now()));
  }

  private async leadershipChanged(isLeader: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!isLeader) return;
    const board = new BreakerBoard(this.opts.policy, () => this.leader.epoch);
    try {
      board.restore(await this.bucket.breakers(), this.now());
    } catch (err) {
      this.logger.warn({ err }, 'breaker states could not be restored; starting closed');
    }
    this.board = board;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    this.timer.unref?.();
  }

  private emit(changes: BreakerState[]): void {
    for (const s of changes) {
      this.bus.publish(this.client.names.resilience.breakers, s);
      this.signals.changed(s);
      (s.reason === 'forgotten' ? this.bucket.deleteBreaker(s) : this.bucket.putBreaker(s)).catch((err: unknown) => this.logger.warn({ err, key: s.key }, 'breaker state not stored'));
    }
  }
}

export function parseCounted(classes: string[]): Set<ErrorClass> {
  return new Set(classes as ErrorClass[]);
}
