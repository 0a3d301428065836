/**
 * The engine's clock: a tick every `tickMs` (and, once an hour of ticks, pruning of silences
 * expired for a day). On shutdown it stops ticking first; the engine settles and its watches stop
 * only once the transport has stopped delivering its inputs (onApplicationShutdown runs after every
 * beforeApplicationShutdown, and before the NATS connection drains).
 */
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { AppLogger } from '@sb/observability';
import type { AlertingParts } from '../alerting.factory';

const SILENCE_KEEP_MS = 24 * 3600_000;
const TICKS_PER_PRUNE = 3600;

export class AlertingTicker implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly parts: AlertingParts,
    private readonly tickMs: number,
    private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { config, engine } = this.parts;
    let ticks = 0;
    this.timer = setInterval(() => {
      ticks += 1;
      void engine.tick().catch((err) => this.logger.error({ err }, 'alerting tick failed'));
      if (ticks % TICKS_PER_PRUNE !== 0) return;
      void config.pruneSilences(SILENCE_KEEP_MS).catch((err) => this.logger.warn({ err }, 'pruning silences failed'));
    }, this.tickMs);
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.parts.engine.settle();
    this.parts.stop();
  }
}
