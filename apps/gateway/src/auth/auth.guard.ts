/**
 * Authentication and permission, one guard for HTTP and NATS: the bearer credential from the
 * request's `Authorization` header (HTTP) or the message's (NATS), checked by the gateway's
 * authenticator against the permissions the handler declares with `@RequireScope(...)` (any one
 * of them suffices; `admin` holds them all). The principal is then `@CurrentPrincipal()`.
 *
 * Guards run before pipes, so a bad credential wins over a bad body. Refusals are the
 * authenticator's: AUTH.INVALID_CREDENTIALS (401) and AUTH.FORBIDDEN (403), each with its
 * security event. A handler with a `@RequestSpan` is authenticated inside that span.
 */
import { applyDecorators, type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Headers, type Principal, type Scope } from '@sb/contracts';
import type { SbContext } from '@sb/messaging';
import { GatewayAuthenticator } from './authenticator.provider';
import { NatsAccountCheck, REQUEST_INFO_HEADER } from './nats-account-check';
import { PreAuthLimiter } from './pre-auth-limiter';
import { type HeadersCarrier, httpHeader, httpRequestInfo, type RequestInfo, type RouteRequest, runWithRequest } from './request-context';
import { RequestSpans } from './request-span';
import { requestState } from './request-state';

const SCOPES_KEY = 'sb:require-scope';

type HttpRequest = RouteRequest & HeadersCarrier;

/** The raw `Authorization` value and where the request came from (for security events). */
function credentialOf(ctx: ExecutionContext): { header: string | undefined; info: RequestInfo } {
  if (ctx.getType() === 'rpc') {
    return { header: ctx.switchToRpc().getContext<SbContext>().header(Headers.Authorization), info: { transport: 'nats' } };
  }
  const req = ctx.switchToHttp().getRequest<HttpRequest>();
  return { header: httpHeader(req, Headers.Authorization), info: httpRequestInfo(req) };
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GatewayAuthenticator) private readonly auth: GatewayAuthenticator,
    @Inject(RequestSpans) private readonly spans: RequestSpans,
    @Inject(NatsAccountCheck) private readonly accounts: NatsAccountCheck,
    @Inject(PreAuthLimiter) private readonly preAuth: PreAuthLimiter,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const scopes = this.reflector.get<Scope[] | undefined>(SCOPES_KEY, ctx.getHandler());
    if (!scopes?.length) throw new Error(`${ctx.getClass().name}.${ctx.getHandler().name} is guarded but declares no @RequireScope(...)`);
    const { header, info } = credentialOf(ctx);
    const source = this.preAuth.sourceOf(ctx);
    const principal = await this.spans.within(ctx, () => this.authenticate(header, info, source, scopes));
    // Over NATS from a tenant's account: the credential must be that tenant's.
    if (ctx.getType() === 'rpc') await this.accounts.check(ctx.switchToRpc().getContext<SbContext>().header(REQUEST_INFO_HEADER), principal);
    requestState(ctx).principal = principal;
    return true;
  }

  /**
   * The principal of `authorization` if it holds any one of `scopes`; the guard's whole check, also
   * made by the plain HTTP routes (tasks/submit-task.route.ts). The check says itself which route a
   * refusal's security event is about (HttpRequestContext may not be installed). A source out of
   * pre-authentication budget gets 429 before its credential is looked at (pre-auth-limiter.ts).
   */
  authenticate(authorization: string | undefined, info: RequestInfo, source: string, scopes: readonly Scope[]): Promise<Principal> {
    return runWithRequest({ ...info, source }, () => this.preAuth.guard(source, authorization, info, () => this.auth.authenticate(authorization, ...scopes)));
  }
}

/**
 * The handler needs a valid credential holding any one of `scopes` (`admin` holds them all but
 * `agent`; `tenant:admin` the tenant scopes). Put it on handlers, not classes.
 */
export const RequireScope = (...scopes: [Scope, ...Scope[]]) => applyDecorators(SetMetadata(SCOPES_KEY, scopes), UseGuards(AuthGuard));

/**
 * Every permission of a caller: for routes any valid key may call (each acting on its own
 * tenant). Not `agent`: an agent key speaks agent protocol v1 on the bus and passes no route.
 */
export const ANY_KEY: [Scope, ...Scope[]] = ['admin', 'tenant:admin', 'tasks:read', 'tasks:submit', 'fleet:read', 'alerts:read', 'alerts:write'];
