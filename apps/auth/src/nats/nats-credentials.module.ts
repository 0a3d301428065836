/**
 * NATS credentials (issue and revoke), when auth is given the deployment's NATS signing secrets
 * (`SB_NATS_AUTH_FILE`, sealed with auth's KEK; see nats-auth-file.ts). Without them the server runs without NATS
 * auth (development) and the endpoint answers 503.
 */
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { UnavailableError } from '@sb/contracts';
import { type NatsAuthSecrets, systemUserCreds, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import type { AuthConfig } from '../config';
import { NatsClaimsPusher } from './claims-pusher';
import { readNatsAuthSecretsFile } from './nats-auth-file';
import { NatsAccountStore } from './nats-account-store';
import { NatsCredentialsController } from './nats-credentials.nats';
import { checkNatsAuthSecrets, NatsCredentialsService } from './nats-credentials.service';

const PUSHER = Symbol('NATS_CLAIMS_PUSHER');

/** At boot: every server gets every tenant account and the current revocations. */
@Injectable()
class NatsAccountsSync implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(NatsCredentialsService) private readonly service: NatsCredentialsService,
    @Inject(PUSHER) private readonly pusher: NatsClaimsPusher | undefined,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}
  async onModuleInit() {
    await this.service.pushAll();
    this.logger.info('NATS accounts pushed to the servers');
    // A restarted server loads its preloaded accounts (without the revocations auth pushed since) and
    // a new one knows no tenant account: push everything again whenever the connection comes back.
    this.pusher?.onReconnect(() => {
      this.service.pushAll().then(
        () => this.logger.info('NATS accounts pushed again after a reconnect'),
        (err: unknown) => this.logger.error({ err }, 'pushing the NATS accounts after a reconnect failed'),
      );
    });
  }
  async onApplicationShutdown() {
    await this.pusher?.close();
  }
}

export function readNatsAuthSecrets(config: AuthConfig): NatsAuthSecrets {
  const s = readNatsAuthSecretsFile(config.SB_NATS_AUTH_FILE!, config.kek, config.NODE_ENV === 'production');
  checkNatsAuthSecrets(s);
  return s;
}

export function natsCredentialsModule(config: AuthConfig): DynamicModule {
  if (!config.SB_NATS_AUTH_FILE) {
    const unavailable = { issue: () => Promise.reject(new UnavailableError('NATS credentials are not enabled: auth has no SB_NATS_AUTH_FILE (see the README, "NATS security")')), ownerOf: async () => null, revokeKey: async () => 0 };
    return { module: NatsCredentialsModule, providers: [{ provide: NatsCredentialsService, useValue: unavailable }], controllers: [NatsCredentialsController] };
  }
  const secrets = readNatsAuthSecrets(config);
  return {
    module: NatsCredentialsModule,
    providers: [
      { provide: PUSHER, inject: [], useFactory: async () => NatsClaimsPusher.connect(config.NATS_URL, (await systemUserCreds(secrets)).creds, config.REQUEST_TIMEOUT_MS) },
      {
        provide: NatsCredentialsService,
        inject: [Topology, PUSHER, LOGGER],
        useFactory: (t: Topology, pusher: NatsClaimsPusher, logger: AppLogger) =>
          new NatsCredentialsService(secrets, new NatsAccountStore(t.bucket('natsAccounts')), pusher, {
            prefix: config.SB_PREFIX,
            tenantLimits: { connections: config.NATS_TENANT_MAX_CONNECTIONS, subscriptions: config.NATS_TENANT_MAX_SUBSCRIPTIONS },
          }, logger),
      },
      NatsAccountsSync,
    ],
    controllers: [NatsCredentialsController],
  };
}

@Module({})
export class NatsCredentialsModule {}
