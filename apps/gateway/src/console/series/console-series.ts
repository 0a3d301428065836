/**
 * The console's charts' data, kept by each gateway in memory: a bounded ring (SeriesRing) filled
 * every STEP_MS by SeriesSampler from what already reaches the gateway (the task tallies of the
 * processes that end tasks, the collector's fleet samples, its own work queue). No new service:
 * history starts when the gateway starts and reaches back at most an hour; long-range history is
 * Prometheus's (deploy/prometheus, `sb_fleet_*` on the collector's /metrics). Every replica
 * sees the same tallies and samples, so each draws the same charts.
 */
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { NatsClient } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { JetStreamQueueState } from './queue-probe';
import { SERIES_METRICS, type SeriesReply } from './series-metrics';
import { SeriesRing } from './series-ring';
import { SeriesSampler } from './series-sampler';

export const STEP_MS = 5_000;
/** Where in each step the sample is taken (after that second's tallies have arrived). */
const STEP_OFFSET_MS = 500;
/** One hour of columns. */
export const POINTS = 720;
/** Series kept at most (about 9 per capability: 17 capabilities in full). */
export const MAX_SERIES = 160;

@Injectable()
export class ConsoleSeries implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly ring = new SeriesRing(POINTS, MAX_SERIES);
  private readonly sampler: SeriesSampler;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private stopped = false;

  constructor(
    @Inject(NatsClient) client: NatsClient,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    const probe = new JetStreamQueueState(() => client.jsm, client.names);
    this.sampler = new SeriesSampler(this.ring, probe, { errorWindowSteps: 12, fleetStaleMs: 60_000, capabilityTtlMs: POINTS * STEP_MS });
  }

  onApplicationBootstrap(): void {
    this.schedule();
    void this.tick();
  }

  /** Before the NATS connection drains (its own shutdown hook), so no sample is attempted on a closed connection. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** A task tally (Events.taskTally, console-series.nats.ts). */
  onTally(tally: unknown): void {
    this.sampler.onTally(tally, Date.now());
  }

  /** The collector's fleet samples (Events.fleetSamples). */
  onFleetBatch(batch: unknown): void {
    this.sampler.onFleetBatch(batch, Date.now());
  }

  /** The last `minutes` of every series. */
  read(minutes: number): SeriesReply {
    const { t, series } = this.ring.read(Date.now() - minutes * 60_000);
    return { stepMs: STEP_MS, t, series, metrics: SERIES_METRICS, droppedSeries: this.ring.droppedSeries };
  }

  /**
   * Half a second after each STEP_MS boundary of the clock: the tallies, sent on whole seconds,
   * then fall five to a step, not four or six (a steady load draws a flat line).
   */
  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.tick();
      if (!this.stopped) this.schedule();
    }, STEP_MS - ((Date.now() - STEP_OFFSET_MS) % STEP_MS));
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      await this.sampler.sample(Date.now());
    } catch (err) {
      if (!this.stopped) this.logger.warn({ err }, 'console series sample failed');
    } finally {
      this.busy = false;
    }
  }
}
