import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthEndpoints, type Jwks, type KeyInvalidation } from '@sb/contracts';
import { Bus, busAuthorizePort, publishSecurityEvent } from '@sb/messaging';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import type { GatewayConfig } from '../config';
import { Authenticator } from './authenticator';
import { TokenVerifier } from './token-verifier';

/**
 * The gateway's Authenticator: API keys checked by auth over NATS (their SHA-256 is sent, never
 * the key; a key of the wrong format is refused here), tokens verified locally, invalidations
 * pushed (served as events in auth-events.nats.ts).
 */
@Injectable()
export class GatewayAuthenticator extends Authenticator implements OnApplicationBootstrap {
  private readonly tokens: TokenVerifier;
  private invalidationsLoaded?: Promise<void>;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(APP_CONFIG) config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {
    const tokens = new TokenVerifier(() => bus.request(AuthEndpoints.jwks, {}), config.JWT_ISSUER);
    super(busAuthorizePort(bus), config.AUTH_CACHE_TTL_MS, Date.now, {
      tokens: { verify: async (t) => (await this.loadInvalidations(), tokens.verify(t)) },
      events: (e) => publishSecurityEvent(bus, e),
    });
    this.tokens = tokens;
  }

  onApplicationBootstrap(): void {
    // Best effort at boot; a token arriving before auth answers triggers the same fetches.
    void this.tokens.refresh(true).catch((err) => this.logger.warn({ err }, 'JWKS not loaded at boot; will fetch on first token'));
    void this.loadInvalidations().catch(() => undefined);
  }

  /** Auth's notice that a key was revoked or shortened (`Events.keyRevoked`); anything else is ignored. */
  keyRevoked(notice: unknown): void {
    if (notice && typeof notice === 'object') this.invalidate(notice as Partial<KeyInvalidation>);
  }

  /** Auth's notice that the signing keys changed (`Events.jwksChanged`): the new set, or fetch it when the body is not one. */
  jwksChanged(notice: unknown): void {
    const body = notice as Jwks | null | undefined;
    if (body && Array.isArray(body.keys)) this.tokens.setJwks(body);
    else void this.tokens.refresh(true).catch(() => undefined);
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
