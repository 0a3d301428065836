/**
 * One NATS connection per service, with JetStream and KV handles. Connects at module init,
 * registers a readiness probe that does a real round trip, and drains on shutdown so in-flight
 * replies and publishes are flushed.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, type JetStreamClient, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { credsAuthenticator } from '@nats-io/nats-core';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { names, type Names, type Subscriber, type TopologySettings } from '@sb/contracts';
import { type AppLogger, LOGGER, ReadinessRegistry } from '@sb/observability';
import { jsPublish, type JsPublishOptions, type PubAck } from './js-publish';
import { RequestMux } from './request-mux';
import { coalesceWrites } from './write-coalescing';

export interface MessagingOptions {
  url: string;
  prefix: string;
  service: string;
  requestTimeoutMs: number;
  /** On shutdown, how long requests already being served may take to finish. */
  drainGraceMs?: number;
  /** This process's id on subjects addressed to one instance; random when absent. */
  instanceId?: string;
  /** The settings of the streams, buckets and consumers this service ensures at boot (topologySettings(config)). */
  topology?: TopologySettings;
  /** A `.creds` file (user JWT + nkey seed): this service's user in the platform account. Absent: no NATS auth. */
  credsFile?: string;
}
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');

@Injectable()
export class NatsClient implements OnApplicationShutdown {
  private connection?: NatsConnection;
  private jsClient?: JetStreamClient;
  private jsManager?: JetStreamManager;
  private kvManager?: Kvm;
  readonly names: Names;
  /** This process of the service: subjects addressed to one instance (a gateway's task completions) carry it. */
  readonly self: Subscriber;

  constructor(
    @Inject(MESSAGING_OPTIONS) readonly options: MessagingOptions,
    @Inject(LOGGER) private readonly logger: AppLogger,
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
  ) {
    this.names = names(options.prefix);
    this.self = { service: options.service, instanceId: options.instanceId ?? randomBytes(8).toString('hex') };
  }

  /** Called by the module's provider factory, so everything that injects NatsClient gets it connected. */
  async connect(): Promise<void> {
    const nc = await connect({
      servers: this.options.url.split(',').map((s) => s.trim()),
      name: this.options.service,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      // Read on every (re)connect, so a replaced credentials file takes effect on the next reconnect.
      ...(this.options.credsFile ? { authenticator: credsAuthenticator(() => readFileSync(this.options.credsFile!)) } : {}),
    });
    this.connection = nc;
    if (!coalesceWrites(nc)) this.logger.warn({}, 'nats.js internals changed: socket writes are not coalesced per event-loop turn');
    this.jsClient = jetstream(nc, { timeout: this.options.requestTimeoutMs });
    this.jsManager = await jetstreamManager(nc, { timeout: this.options.requestTimeoutMs });
    this.kvManager = new Kvm(this.jsClient);
    this.logger.info({ server: nc.getServer() }, 'connected to NATS');
    void this.watchStatus(nc);
    this.readiness.register({
      name: 'nats',
      check: async () => {
        if (nc.isClosed() || nc.isDraining()) throw new Error('NATS connection is closed');
        const rtt = await nc.rtt();
        // JetStream must answer too, not just the core server.
        await this.jsm.getAccountInfo();
        return { rttMs: Number(rtt.toFixed(3)), server: nc.getServer() };
      },
    });
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        this.logger.warn({ status: s.type }, 'NATS connection status changed');
      }
    }
  }

  get nc(): NatsConnection {
    if (!this.connection) throw new Error('NATS is not connected yet');
    return this.connection;
  }
  get js(): JetStreamClient {
    if (!this.jsClient) throw new Error('NATS is not connected yet');
    return this.jsClient;
  }
  get jsm(): JetStreamManager {
    if (!this.jsManager) throw new Error('NATS is not connected yet');
    return this.jsManager;
  }
  get kvm(): Kvm {
    if (!this.kvManager) throw new Error('NATS is not connected yet');
    return this.kvManager;
  }

  private requestMux?: RequestMux;
  /** Requests and JetStream writes over one muxed inbox (see RequestMux). */
  get mux(): RequestMux {
    this.requestMux ??= new RequestMux(this.nc);
    return this.requestMux;
  }

  /** A JetStream publish over the mux (see js-publish.ts), with the service's request time limit. */
  jsPublish(subject: string, data: Uint8Array, o: Omit<JsPublishOptions, 'timeoutMs'> = {}): Promise<PubAck> {
    return jsPublish(this.mux, subject, data, { ...o, timeoutMs: this.options.requestTimeoutMs });
  }

  async onApplicationShutdown(): Promise<void> {
    const nc = this.connection;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch (e) {
      this.logger.warn({ err: e }, 'NATS drain failed; closing');
      await nc.close().catch(() => undefined);
    }
  }
}
