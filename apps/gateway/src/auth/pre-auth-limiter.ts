/**
 * The limit before authentication (issue 12, #4): a source (client address over HTTP, account or
 * connection over NATS: request-source.ts) may spend PREAUTH_RATE requests a second (burst
 * PREAUTH_BURST) on credentials that do not authenticate. A request takes a token before its
 * credential is looked at and gives it back when the credential holds, so valid traffic costs
 * nothing and only refusals (and checks still in flight) draw on the budget. A source without
 * budget gets 429 + Retry-After at once: no key lookup, no token verification, and one
 * `rate_limited` security event (aggregated per second like every other).
 *
 * A credential that authenticated in the last KNOWN_FOR_MS passes without taking a token (if it
 * is refused after all, its refusal is charged then), so a client sharing an address with a
 * flood (behind one NAT) keeps working with the keys it already uses.
 *
 * In process, per gateway replica, not in Redis: the limit must cost less than the lookup it
 * saves (a Redis round trip per unauthenticated request would cost as much), must not write
 * per-address keys into the Redis that holds tenants' quotas (a flood under rotating addresses
 * would fill it: #13), and must hold while Redis is down. With N replicas a source gets up to N
 * times the budget: a guard against floods, not an accounting limit (those are per key, in Redis).
 */
import { createHash } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { isSbError, RateLimitedError } from '@sb/contracts';
import { Bus, publishSecurityEvent, type SbContext } from '@sb/messaging';
import { APP_CONFIG } from '@sb/observability';
import type { GatewayConfig } from '../config';
import type { RequestInfo } from './request-context';
import { type HttpRequestLike, httpSource, type NatsMessageLike, natsSource } from './request-source';
import { SourceBuckets } from './source-buckets';

export type PreAuthSettings = Pick<GatewayConfig, 'PREAUTH_RATE' | 'PREAUTH_BURST' | 'TRUSTED_PROXY_HOPS'>;

export const KNOWN_FOR_MS = 60_000;
const MAX_KNOWN = 10_000;

@Injectable()
export class PreAuthLimiter {
  private readonly buckets?: SourceBuckets;
  private readonly hops: number;
  /** SHA-256 of Authorization values that authenticated → until when they pass without a token. */
  private readonly known = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) config: PreAuthSettings,
    @Inject(Bus) private readonly bus: Bus,
  ) {
    this.buckets = config.PREAUTH_RATE > 0 ? new SourceBuckets(config.PREAUTH_RATE, config.PREAUTH_BURST) : undefined;
    this.hops = config.TRUSTED_PROXY_HOPS;
  }

  /** Who is asking (request-source.ts). */
  sourceOf(ctx: ExecutionContext): string {
    if (ctx.getType() === 'rpc') return natsSource(ctx.switchToRpc().getContext<SbContext>().msg as NatsMessageLike);
    return this.httpSourceOf(ctx.switchToHttp().getRequest<HttpRequestLike>());
  }

  httpSourceOf(req: HttpRequestLike): string {
    return httpSource(req, this.hops);
  }

  /** `authenticate` the `authorization` value, if `source` has budget left (see above). */
  async guard<T>(source: string, authorization: string | undefined, info: RequestInfo, authenticate: () => Promise<T>): Promise<T> {
    const buckets = this.buckets;
    if (!buckets) return authenticate();
    const h = authorization ? createHash('sha256').update(authorization).digest('base64url') : '';
    const now = Date.now();
    const known = h !== '' && (this.known.get(h) ?? 0) > now;
    if (!known) {
      const waitMs = buckets.take(source);
      if (waitMs > 0) {
        const { transport, route } = info;
        publishSecurityEvent(this.bus, { type: 'rate_limited', transport, route, source, reason: 'pre-authentication limit' });
        const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
        throw new RateLimitedError('Too many unauthenticated or refused requests from this client', { retryAfter });
      }
    }
    let principal: T;
    try {
      principal = await authenticate();
    } catch (e) {
      if (known) {
        this.known.delete(h);
        buckets.take(source);
      }
      throw e;
    }
    if (!known) buckets.giveBack(source);
    if (h) this.remember(h, now + KNOWN_FOR_MS);
    return principal;
  }

  private remember(h: string, until: number): void {
    this.known.delete(h);
    if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
    this.known.set(h, until);
  }
}
