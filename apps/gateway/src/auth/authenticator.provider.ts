import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Endpoints } from '@sb/contracts';
import { Bus, decode, NatsClient } from '@sb/messaging';
import { APP_CONFIG } from '@sb/observability';
import type { GatewayConfig } from '../config';
import { Authenticator } from './authenticator';

/** The gateway's Authenticator, asking auth over NATS and listening for revocations. */
@Injectable()
export class GatewayAuthenticator extends Authenticator implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) bus: Bus,
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(APP_CONFIG) config: GatewayConfig,
  ) {
    super({ authorize: (credential) => bus.request(Endpoints.authorize, { credential }) }, config.AUTH_CACHE_TTL_MS);
  }

  onApplicationBootstrap(): void {
    this.client.nc.subscribe(this.client.names.internal.keyRevoked, {
      callback: (_err, msg) => {
        try {
          const body = decode(msg.data) as { hash?: unknown };
          if (typeof body?.hash === 'string') this.evict(body.hash);
        } catch {
          /* malformed notice: nothing to evict */
        }
      },
    });
  }
}
