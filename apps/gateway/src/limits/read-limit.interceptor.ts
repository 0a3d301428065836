/**
 * `@ReadLimited()` on a controller (its GET routes) or on a bus read handler: each call counts
 * against the caller's read budget (ReadLimits) once the AuthGuard has named the caller, and
 * carries the RateLimit-* headers, on the reply and on the refusal alike. An interceptor runs
 * after every guard whatever the decorators' order; routes without a caller (public ones) and
 * HTTP methods that change things (submissions have their own limits) pass untouched.
 */
import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { SbContext } from '@sb/messaging';
import type { Observable } from 'rxjs';
import { requestState } from '../auth/request-state';
import { type RateLimitInfo, rateLimitHeaders } from '../tasks/submit-limits';
import { ReadLimits } from './read-limits';

const READ_METHODS = new Set(['GET', 'HEAD']);

interface HttpExchange {
  req: { method?: string };
  res: { header(name: string, value: string): unknown };
}

@Injectable()
export class ReadLimitInterceptor implements NestInterceptor {
  constructor(@Inject(ReadLimits) private readonly limits: ReadLimits) {}

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const principal = requestState(ctx).principal;
    if (!principal) return next.handle();
    let setHeader: (name: string, value: string) => unknown;
    if (ctx.getType() === 'rpc') {
      const bus = ctx.switchToRpc().getContext<SbContext>();
      setHeader = (k, v) => bus.setReplyHeader(k, v);
    } else {
      const http = { req: ctx.switchToHttp().getRequest(), res: ctx.switchToHttp().getResponse() } as HttpExchange;
      if (!READ_METHODS.has(http.req.method ?? '')) return next.handle();
      setHeader = (k, v) => http.res.header(k, v);
    }
    const report = (info: RateLimitInfo) => {
      for (const [k, v] of Object.entries(rateLimitHeaders(info))) setHeader(k, v);
    };
    await this.limits.admitRead(principal.keyId, report);
    return next.handle();
  }
}

/** Reads here count against the caller's read budget (see ReadLimitInterceptor). */
export const ReadLimited = () => UseInterceptors(ReadLimitInterceptor);
