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
import { Headers, type Scope } from '@sb/contracts';
import type { SbContext } from '@sb/messaging';
import { GatewayAuthenticator } from './authenticator.provider';
import { httpRequestInfo, type RequestInfo, type RouteRequest, runWithRequest } from './request-context';
import { RequestSpans } from './request-span';
import { requestState } from './request-state';

const SCOPES_KEY = 'sb:require-scope';

type HttpRequest = RouteRequest & { headers: Record<string, string | string[] | undefined> };

/** The raw `Authorization` value and where the request came from (for security events). */
function credentialOf(ctx: ExecutionContext): { header: string | undefined; info: RequestInfo } {
  if (ctx.getType() === 'rpc') {
    return { header: ctx.switchToRpc().getContext<SbContext>().header(Headers.Authorization), info: { transport: 'nats' } };
  }
  const req = ctx.switchToHttp().getRequest<HttpRequest>();
  const v = req.headers[Headers.Authorization.toLowerCase()];
  return { header: Array.isArray(v) ? v[0] : v, info: httpRequestInfo(req) };
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GatewayAuthenticator) private readonly auth: GatewayAuthenticator,
    @Inject(RequestSpans) private readonly spans: RequestSpans,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const scopes = this.reflector.get<Scope[] | undefined>(SCOPES_KEY, ctx.getHandler());
    if (!scopes?.length) throw new Error(`${ctx.getClass().name}.${ctx.getHandler().name} is guarded but declares no @RequireScope(...)`);
    const { header, info } = credentialOf(ctx);
    // The guard says itself which route a refusal's security event is about (HttpRequestContext may not be installed).
    const principal = await this.spans.within(ctx, () => runWithRequest(info, () => this.auth.authenticate(header, ...scopes)));
    requestState(ctx).principal = principal;
    return true;
  }
}

/** The handler needs a valid credential holding any one of `scopes` (`admin` holds them all but `agent`). Put it on handlers, not classes. */
export const RequireScope = (...scopes: [Scope, ...Scope[]]) => applyDecorators(SetMetadata(SCOPES_KEY, scopes), UseGuards(AuthGuard));

/**
 * Every permission of a caller: for routes any valid key may call (each acting on its own
 * tenant). Not `agent`: an agent key speaks agent protocol v1 on the bus and passes no route.
 */
export const ANY_KEY: [Scope, ...Scope[]] = ['admin', 'tasks:read', 'tasks:submit', 'fleet:read', 'alerts:read', 'alerts:write'];
