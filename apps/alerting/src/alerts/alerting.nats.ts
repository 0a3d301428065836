/** NATS adapter for alerting: the internal CRUD/query endpoints, the engine's input subscriptions and its clock tick. No logic here. */
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from '@nats-io/nats-core';
import { AlertingEndpoints } from '@sb/contracts';
import { Bus, NatsClient } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import type { AlertingParts } from '../alerting.factory';
import { subscribeEngineInputs } from './engine-inputs.nats';

export const ALERTING_PARTS = Symbol('ALERTING_PARTS');
export const ALERTING_RUNTIME = Symbol('ALERTING_RUNTIME');
export interface AlertingRuntime {
  tickMs: number;
  onInvalid: (input: string) => void;
}

const SILENCE_KEEP_MS = 24 * 3600_000;

@Injectable()
export class AlertingNatsAdapter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subs: Subscription[] = [];
  private ticker?: NodeJS.Timeout;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(ALERTING_PARTS) private readonly parts: AlertingParts,
    @Inject(ALERTING_RUNTIME) private readonly runtime: AlertingRuntime,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { config: c, engine } = this.parts;
    const E = AlertingEndpoints;
    this.bus.serve(E.createRule, (req) => c.createRule(req));
    this.bus.serve(E.listRules, async () => c.rules.list());
    this.bus.serve(E.getRule, (req) => c.rules.get(req.id));
    this.bus.serve(E.updateRule, (req) => c.updateRule(req.id, req.rule));
    this.bus.serve(E.deleteRule, (req) => c.rules.delete(req.id));
    this.bus.serve(E.createSilence, (req) => c.silences.create(req));
    this.bus.serve(E.listSilences, async () => c.silences.list());
    this.bus.serve(E.getSilence, (req) => c.silences.get(req.id));
    this.bus.serve(E.updateSilence, (req) => c.silences.update(req.id, { silence: req.silence, createdBy: req.createdBy }));
    this.bus.serve(E.deleteSilence, (req) => c.silences.delete(req.id));
    this.bus.serve(E.createPolicy, (req) => c.policies.create(req));
    this.bus.serve(E.listPolicies, async () => c.policies.list());
    this.bus.serve(E.getPolicy, (req) => c.policies.get(req.id));
    this.bus.serve(E.updatePolicy, (req) => c.policies.update(req.id, req.policy));
    this.bus.serve(E.deletePolicy, (req) => c.deletePolicy(req.id));
    this.bus.serve(E.listAlerts, async (req) => engine.list(req));
    this.bus.serve(E.ackAlert, (req) => engine.ack(req.fingerprint, req.by, req.expiresInMs, req.comment));

    this.subs = subscribeEngineInputs(this.client.nc, this.client.names, engine, this.runtime.onInvalid);
    let ticks = 0;
    this.ticker = setInterval(() => {
      ticks += 1;
      void engine.tick().catch((err) => this.logger.error({ err }, 'alerting tick failed'));
      if (ticks % 3600 === 0) void c.pruneSilences(SILENCE_KEEP_MS).catch((err) => this.logger.warn({ err }, 'pruning silences failed'));
    }, this.runtime.tickMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.ticker);
    for (const s of this.subs.splice(0)) s.unsubscribe();
    await this.parts.engine.settle();
    this.parts.stop();
  }
}
