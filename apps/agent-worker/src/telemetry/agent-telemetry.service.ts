/**
 * The worker's side of fleet telemetry. On boot it registers with the collector (retried with
 * backoff while no collector answers; never blocks taking tasks), and registers again when the
 * collector asks (it lost its state and does not know this agent).
 *
 * Heartbeats: a timer on the main event loop composes the current heartbeat (held tasks, status)
 * every AGENT_HEARTBEAT_MS and hands it to the heartbeat thread (heartbeat-sender.ts starts
 * heartbeat-thread.ts), which sends the beats on its own timer and NATS connection. CPU-heavy
 * work that stalls the main loop therefore cannot make a busy worker look dead, while a main
 * loop that hands nothing over for AGENT_STALL_MS (hung) goes quiet and is declared down. If the
 * thread cannot start, this loop sends the beats itself. Metric batches go out from this loop
 * every AGENT_METRICS_MS.
 *
 * On shutdown it beats `draining` until its tasks are finished or handed back, then sends a
 * final metric batch and deregisters on the thread's connection, so its departure raises no
 * down alarm.
 */
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { FleetEndpoints, type MetricBatch } from '@sb/contracts';
import { Bus, NatsClient } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER, ServiceMetrics } from '@sb/observability';
import { AgentRegistry } from '../agents/agent-registry';
import type { WorkerConfig } from '../config';
import { HeartbeatComposer, registerBackoffBeats } from './heartbeat-composer';
import { DirectHeartbeatSender, type HeartbeatSender, ThreadHeartbeatSender } from './heartbeat-sender';
import { HeldTasks } from './held-tasks';
import { gaugeSamples, taskSamples } from './metric-batch';
import { packageVersion } from './package-version';
import { ProcessStats } from './process-stats';

@Injectable()
export class AgentTelemetry implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private composer?: HeartbeatComposer;
  private sender?: HeartbeatSender;
  private readonly stats = new ProcessStats();
  private beatTimer?: NodeJS.Timeout;
  private metricsTimer?: NodeJS.Timeout;
  private registered = false;
  private registering = false;
  private failures = 0;
  private beatsUntilRetry = 0;
  private stopped = false;

  constructor(
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(AgentRegistry) private readonly agents: AgentRegistry,
    @Inject(HeldTasks) private readonly held: HeldTasks,
    @Inject(APP_CONFIG) private readonly config: WorkerConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    this.composer = new HeartbeatComposer({
      agentId: c.WORKER_ID,
      capabilities: this.agents.capabilities(),
      version: packageVersion(),
      maxConcurrency: c.WORKER_CONCURRENCY,
      host: hostname().slice(0, 253),
      labels: c.WORKER_LABELS,
      heartbeatIntervalMs: c.AGENT_HEARTBEAT_MS,
      startedAt: new Date().toISOString(),
    });
    this.sender = await this.startSender();
    void this.register();
    this.beat(true);
    this.beatTimer = setInterval(() => this.beat(), c.AGENT_HEARTBEAT_MS);
    this.metricsTimer = setInterval(() => void this.sendMetrics(), c.AGENT_METRICS_MS);
  }

  /** Shutdown starts: say `draining` (no capacity) at once and keep beating while tasks finish. */
  beforeApplicationShutdown(): void {
    if (!this.composer || this.stopped) return;
    this.composer.drain();
    this.beat(true);
  }

  /**
   * Every shutdown hook has run (the worker finished or handed back its tasks): leave. The
   * deregistration goes out on the heartbeat thread's own connection, which outlives the
   * service's (drained by now or concurrently).
   */
  async onApplicationShutdown(): Promise<void> {
    if (!this.composer || this.stopped) return;
    await this.held.whenEmpty(this.config.SHUTDOWN_GRACE_MS + 3_000);
    this.stopped = true;
    clearInterval(this.beatTimer);
    clearInterval(this.metricsTimer);
    const n = this.client.names;
    const finalMetrics = await this.metricBatch().catch(() => undefined);
    await this.sender?.close([
      ...(finalMetrics ? [{ subject: n.agents.metrics(this.config.WORKER_ID), data: finalMetrics }] : []),
      { subject: n.agents.deregister, data: { agentId: this.config.WORKER_ID, reason: 'shutdown' } },
    ]);
    this.logger.info({ agentId: this.config.WORKER_ID }, 'deregistered from the fleet');
  }

  /** Heartbeats from their own thread (see heartbeat-sender.ts), or from this loop if it cannot start. */
  private async startSender(): Promise<HeartbeatSender> {
    const c = this.config;
    try {
      return await ThreadHeartbeatSender.start({
        natsServers: c.NATS_URL.split(',').map((u) => u.trim()),
        name: `agent-worker-heartbeat-${c.WORKER_ID}`,
        subject: this.client.names.agents.heartbeat(c.WORKER_ID),
        intervalMs: c.AGENT_HEARTBEAT_MS,
        stallMs: c.AGENT_STALL_MS,
        memoryLimitBytes: this.stats.memoryLimitBytes,
      });
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat thread unavailable; heartbeating from the main event loop');
      const send = (subject: string, data: unknown) => {
        try {
          this.bus.publish(subject, data);
        } catch (e) {
          this.logger.warn({ err: e, subject }, 'telemetry message not sent');
        }
      };
      return new DirectHeartbeatSender((hb) => send(this.client.names.agents.heartbeat(hb.agentId), hb), send);
    }
  }

  private beat(now = false): void {
    if (this.stopped || !this.composer || !this.sender) return;
    try {
      const hb = this.composer.beat(this.held.list(), this.stats.sample(), Date.now());
      this.sender.update(hb, now);
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat not sent');
    }
    if (!this.registered && !this.registering && --this.beatsUntilRetry <= 0) void this.register();
  }

  /**
   * The collector does not know this agent (it lost its state): register again. An ask that comes
   * while a registration is in flight is answered by that registration (the collector asks when a
   * beat from an agent it does not know yet arrives first).
   */
  askedToRegister(): void {
    if (this.registering) return;
    this.registered = false;
    void this.register();
  }

  private async register(): Promise<void> {
    if (this.registering || this.stopped || !this.composer) return;
    this.registering = true;
    try {
      const reply = await this.bus.request(FleetEndpoints.register, this.composer.registration());
      this.registered = true;
      this.failures = 0;
      this.logger.info({ agentId: reply.agentId, downAfterMs: reply.downAfterMs }, 'registered with the fleet collector');
    } catch (err) {
      this.failures++;
      this.beatsUntilRetry = registerBackoffBeats(this.failures);
      if (this.failures === 1) this.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'fleet registration failed (no collector yet?); retrying while heartbeating');
    } finally {
      this.registering = false;
    }
  }

  private async metricBatch(): Promise<MetricBatch> {
    const s = this.composer?.lastSample ?? this.stats.sample();
    const samples = [
      ...(await taskSamples(this.metrics.registry)),
      ...gaugeSamples({ cpuPercent: s.cpuPercent, memoryPercent: s.memoryPercent, inFlight: this.held.size, capacity: this.config.WORKER_CONCURRENCY }),
    ];
    return { agentId: this.config.WORKER_ID, sentAt: Date.now(), samples };
  }

  private async sendMetrics(): Promise<void> {
    if (!this.composer || this.stopped) return;
    try {
      this.bus.publish(this.client.names.agents.metrics(this.config.WORKER_ID), await this.metricBatch());
    } catch (err) {
      this.logger.warn({ err }, 'metric batch not sent');
    }
  }
}
