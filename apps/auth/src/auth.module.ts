import { type DynamicModule, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Endpoints, isSbError } from '@sb/contracts';
import { Bus, coreImports, NatsClient, openBucket } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { AuthNatsAdapter } from './auth.nats';
import { AuthorizeHandler } from './authorize/authorize.handler';
import type { AuthConfig } from './config';
import { ensureBootstrapAdmin } from './keys/bootstrap-admin';
import { IssueKeyHandler, type TenantDirectory } from './keys/issue-key.handler';
import type { KeyStore } from './keys/key-record';
import { KvKeyStore } from './keys/kv-key-store';
import { ListKeysHandler, RevokeKeyHandler } from './keys/revoke-key.handler';

export const KEY_STORE = Symbol('KEY_STORE');
const AUTH_CONFIG = Symbol('AUTH_CONFIG');

@Injectable()
class BootstrapAdmin implements OnModuleInit {
  constructor(
    @Inject(KEY_STORE) private readonly store: KeyStore,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}
  async onModuleInit() {
    const outcome = await ensureBootstrapAdmin(this.store, this.config.SB_BOOTSTRAP_ADMIN_KEY, (key) => {
      // Printed once, on purpose, outside the (redacting) logger.
      process.stdout.write(`\n  Bootstrap admin key (shown once, store it now): ${key}\n\n`);
    });
    this.logger.info({ outcome }, 'bootstrap admin key checked');
  }
}

export function authModule(config: AuthConfig, logger: AppLogger): DynamicModule {
  return {
    module: AuthModule,
    imports: coreImports('auth', config, logger),
    providers: [
      { provide: AUTH_CONFIG, useValue: config },
      {
        provide: KEY_STORE,
        inject: [NatsClient],
        useFactory: async (client: NatsClient) => new KvKeyStore(await openBucket(client.kvm, client.names.buckets.keys, { replicas: config.JETSTREAM_REPLICAS })),
      },
      {
        provide: IssueKeyHandler,
        inject: [KEY_STORE, Bus],
        useFactory: (store: KeyStore, bus: Bus) => {
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
          return new IssueKeyHandler(store, tenants);
        },
      },
      { provide: AuthorizeHandler, inject: [KEY_STORE], useFactory: (s: KeyStore) => new AuthorizeHandler(s) },
      { provide: ListKeysHandler, inject: [KEY_STORE], useFactory: (s: KeyStore) => new ListKeysHandler(s) },
      {
        provide: RevokeKeyHandler,
        inject: [KEY_STORE, Bus],
        useFactory: (s: KeyStore, bus: Bus) => new RevokeKeyHandler(s, { revoked: (hash) => bus.publish(bus.names.internal.keyRevoked, { hash }) }),
      },
      BootstrapAdmin,
      AuthNatsAdapter,
    ],
  };
}

@Module({})
export class AuthModule {}
