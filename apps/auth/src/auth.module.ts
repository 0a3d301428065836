import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Endpoints, isSbError, MAX_TOKEN_TTL_S } from '@sb/contracts';
import { Bus, coreImports, NatsClient, Topology } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { AuthNatsController } from './auth.nats';
import { natsCredentialsModule } from './nats/nats-credentials.module';
import { AuthorizeHandler } from './authorize/authorize.handler';
import type { AuthConfig } from './config';
import { KeyHasher } from './keys/api-key';
import { ensureBootstrapAdmin } from './keys/bootstrap-admin';
import { ensureBootstrapAgent } from './keys/bootstrap-agent';
import { IssueKeyHandler, type TenantDirectory } from './keys/issue-key.handler';
import type { KeyStore } from './keys/key-record';
import { loadPepper } from './keys/key-pepper';
import { KvKeyStore } from './keys/kv-key-store';
import { InvalidatedKeysHandler, invalidationOf, ListKeysHandler, RevokeKeyHandler, type RevocationNotifier } from './keys/revoke-key.handler';
import { RotateKeyHandler } from './keys/rotate-key.handler';
import { UsageRecorder } from './keys/usage-recorder';
import { SecretSealer } from './secrets/sealed-box';
import { SecurityEventsReader } from './security/security-events.reader';
import { IssueTokenHandler } from './tokens/issue-token.handler';
import { KvSigningKeyStore } from './tokens/kv-signing-key-store';
import { SigningKeyRing } from './tokens/signing-keys';

export const KEY_STORE = Symbol('KEY_STORE');
const AUTH_CONFIG = Symbol('AUTH_CONFIG');
const NOTIFIER = Symbol('REVOCATION_NOTIFIER');

/** At boot: an admin key exists (the configured one: a changed setting revokes the previous key), and the configured bootstrap agent key (only that one). */
@Injectable()
class AuthStartup implements OnModuleInit {
  constructor(
    @Inject(KEY_STORE) private readonly store: KeyStore,
    @Inject(KeyHasher) private readonly hasher: KeyHasher,
    @Inject(NOTIFIER) private readonly notifier: RevocationNotifier,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}
  async onModuleInit() {
    if (!this.config.kek) this.logger.warn('no SB_KEK / SB_KEK_FILE: signing keys and the API-key pepper are stored unsealed (development only; refused with NODE_ENV=production)');
    const deps = { store: this.store, hasher: this.hasher, notifier: this.notifier };
    const outcome = await ensureBootstrapAdmin(deps, this.config.SB_BOOTSTRAP_ADMIN_KEY, (key) => {
      // Printed once, on purpose, outside the (redacting) logger.
      process.stdout.write(`\n  Bootstrap admin key (shown once, store it now): ${key}\n\n`);
    });
    if (outcome === 'conflict') this.logger.error('SB_BOOTSTRAP_ADMIN_KEY is a revoked key or another key: not registered; configure a new value');
    else this.logger.info({ outcome }, 'bootstrap admin key checked');
    const agent = await ensureBootstrapAgent(deps, this.config.SB_BOOTSTRAP_AGENT_KEY);
    if (agent === 'conflict') this.logger.error('SB_BOOTSTRAP_AGENT_KEY is a revoked key or another key: not registered; configure a new value');
    else this.logger.info({ outcome: agent }, 'bootstrap agent key checked');
  }
}

/** Keeps the signing key ring current (rotation, retirement) and tells gateways when its JWKS changed. */
@Injectable()
class SigningKeyRotation implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  constructor(
    @Inject(SigningKeyRing) private readonly ring: SigningKeyRing,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(Bus) private readonly bus: Bus,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}
  async onModuleInit() {
    await this.ring.refresh();
    const every = Math.min(60_000, Math.max(1000, (this.config.JWT_SIGNING_KEY_ROTATION_S * 1000) / 4));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }
  private async tick() {
    try {
      if (await this.ring.refresh()) this.bus.publish(this.bus.names.internal.jwksChanged, this.ring.jwks());
    } catch (err) {
      this.logger.warn({ err }, 'signing key refresh failed; retrying on the next tick');
    }
  }
  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}

export function authModule(config: AuthConfig, logger: AppLogger): DynamicModule {
  return {
    module: AuthModule,
    imports: [...coreImports('auth', config, logger), natsCredentialsModule(config)],
    providers: [
      { provide: AUTH_CONFIG, useValue: config },
      // Auth's secrets at rest (signing keys, the pepper, NATS signing seeds) are sealed with the KEK through this.
      { provide: SecretSealer, useValue: new SecretSealer(config.kek) },
      { provide: KeyHasher, inject: [Topology, SecretSealer], useFactory: async (t: Topology, sealer: SecretSealer) => new KeyHasher(await loadPepper(t.bucket('keys'), sealer)) },
      {
        provide: KEY_STORE,
        inject: [Topology, KeyHasher],
        useFactory: async (t: Topology, hasher: KeyHasher) => {
          const store = new KvKeyStore(t.bucket('keys'));
          const moved = await store.upgradeLegacyHashes(hasher);
          if (moved > 0) logger.info({ moved }, 'API keys re-filed under their peppered hash');
          return store;
        },
      },
      {
        provide: SigningKeyRing,
        inject: [Topology, SecretSealer],
        useFactory: async (t: Topology, sealer: SecretSealer) => {
          const store = new KvSigningKeyStore(t.bucket('signingKeys'), sealer);
          const sealed = await store.sealPlaintext();
          if (sealed > 0) logger.info({ sealed }, 'signing keys stored in clear are now sealed with the KEK');
          return new SigningKeyRing(store, config.JWT_SIGNING_KEY_ROTATION_S * 1000);
        },
      },
      {
        provide: IssueKeyHandler,
        inject: [KEY_STORE, KeyHasher, Bus],
        useFactory: (store: KeyStore, hasher: KeyHasher, bus: Bus) => {
          const tenants: TenantDirectory = {
            exists: async (tenantId) => {
              try {
                await bus.request(Endpoints.getTenant, { id: tenantId });
                return true;
              } catch (e) {
                if (isSbError(e) && e.status === 404) return false;
                throw e;
              }
            },
          };
          return new IssueKeyHandler(store, hasher, tenants);
        },
      },
      {
        provide: UsageRecorder,
        inject: [KEY_STORE],
        useFactory: (s: KvKeyStore) => new UsageRecorder(s, config.KEY_USAGE_WRITE_INTERVAL_MS, Date.now, (err) => logger.warn({ err }, 'lastUsedAt write failed')),
      },
      {
        provide: AuthorizeHandler,
        inject: [KEY_STORE, KeyHasher, UsageRecorder],
        useFactory: (s: KeyStore, h: KeyHasher, u: UsageRecorder) => new AuthorizeHandler(s, h, () => new Date(), u),
      },
      { provide: ListKeysHandler, inject: [KEY_STORE], useFactory: (s: KeyStore) => new ListKeysHandler(s) },
      { provide: NOTIFIER, inject: [Bus], useFactory: (bus: Bus): RevocationNotifier => ({ revoked: (r) => bus.publish(bus.names.internal.keyRevoked, invalidationOf(r)) }) },
      { provide: RevokeKeyHandler, inject: [KEY_STORE, NOTIFIER], useFactory: (s: KeyStore, n: RevocationNotifier) => new RevokeKeyHandler(s, n) },
      { provide: RotateKeyHandler, inject: [KEY_STORE, KeyHasher, NOTIFIER], useFactory: (s: KeyStore, h: KeyHasher, n: RevocationNotifier) => new RotateKeyHandler(s, h, n) },
      { provide: InvalidatedKeysHandler, inject: [KEY_STORE], useFactory: (s: KeyStore) => new InvalidatedKeysHandler(s, (MAX_TOKEN_TTL_S + 60) * 1000) },
      {
        provide: IssueTokenHandler,
        inject: [AuthorizeHandler, SigningKeyRing],
        useFactory: (a: AuthorizeHandler, ring: SigningKeyRing) => new IssueTokenHandler(a, ring, config.JWT_ISSUER),
      },
      { provide: SecurityEventsReader, inject: [NatsClient], useFactory: (c: NatsClient) => new SecurityEventsReader(c.js, c.jsm, c.names.prefix) },
      AuthStartup,
      SigningKeyRotation,
    ],
    controllers: [AuthNatsController],
  };
}

@Module({})
export class AuthModule {}
