import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthEndpoints, Endpoints, type Jwks, type KeyInvalidation } from '@sb/contracts';
import { Bus, decode, NatsClient, publishSecurityEvent } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import type { GatewayConfig } from '../config';
import { Authenticator } from './authenticator';
import { TokenVerifier } from './token-verifier';

/** The gateway's Authenticator: API keys checked by auth over NATS, tokens verified locally, invalidations pushed. */
@Injectable()
export class GatewayAuthenticator extends Authenticator implements OnApplicationBootstrap {
  private readonly tokens: TokenVerifier;
  private invalidationsLoaded?: Promise<void>;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(NatsClient) private readonly client: NatsClient,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    const tokens = new TokenVerifier(() => bus.request(AuthEndpoints.jwks, {}), config.JWT_ISSUER);
    super({ authorize: (credential) => bus.request(Endpoints.authorize, { credential }) }, config.AUTH_CACHE_TTL_MS, Date.now, {
      tokens: { verify: async (t) => (await this.loadInvalidations(), tokens.verify(t)) },
      events: (e) => publishSecurityEvent(bus, e),
    });
    this.tokens = tokens;
  }

  onApplicationBootstrap(): void {
    this.client.nc.subscribe(this.client.names.internal.keyRevoked, {
      callback: (_err, msg) => {
        const body = safeDecode(msg.data) as Partial<KeyInvalidation> | undefined;
        if (body && typeof body === 'object') this.invalidate(body);
      },
    });
    this.client.nc.subscribe(this.client.names.internal.jwksChanged, {
      callback: (_err, msg) => {
        const body = safeDecode(msg.data) as Jwks | undefined;
        if (body && Array.isArray(body.keys)) this.tokens.setJwks(body);
        else void this.tokens.refresh(true).catch(() => undefined);
      },
    });
    // Best effort at boot; a token arriving before auth answers triggers the same fetches.
    void this.tokens.refresh(true).catch((err) => this.logger.warn({ err }, 'JWKS not loaded at boot; will fetch on first token'));
    void this.loadInvalidations().catch(() => undefined);
  }

  /** The public key set, as the gateway serves it at /.well-known/jwks.json. */
  async jwks(): Promise<Jwks> {
    if (this.tokens.jwks().keys.length === 0) await this.tokens.refresh().catch(() => undefined);
    return this.tokens.jwks();
  }

  /** Keys revoked or shortened before this gateway subscribed: asked once (again after a failure). */
  private loadInvalidations(): Promise<void> {
    this.invalidationsLoaded ??= this.bus.request(AuthEndpoints.invalidatedKeys, {}).then(
      (r) => r.keys.forEach((k) => this.invalidate({ keyId: k.keyId, expiresAt: k.notAfter })),
      (e) => {
        this.invalidationsLoaded = undefined;
        throw e;
      },
    );
    return this.invalidationsLoaded;
  }
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decode(data);
  } catch {
    return undefined; // malformed notice: nothing to do
  }
}
