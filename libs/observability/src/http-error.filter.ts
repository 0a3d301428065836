/**
 * One exception filter for HTTP and the bus. Every HTTP error leaves as
 * `{"error": {"code", "message", "retryable"}}` with its status. Known errors keep their code;
 * framework errors (a guard's or pipe's HttpException) are mapped; anything else is INTERNAL and
 * logged with its stack, never sent. On the bus the error goes back to the transport, whose
 * error-mapping interceptor turns it into the structured reply.
 */
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';
import { fromUnexpected, isSbError, type SbError, SbError as Base } from '@sb/contracts';
import type { AppLogger } from './logger';

interface FastifyLikeReply {
  status(code: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(body: unknown): void;
}

const FRAMEWORK_CODES: Record<number, [string, boolean]> = {
  400: ['REQUEST.INVALID', false],
  401: ['AUTH.INVALID_CREDENTIALS', false],
  403: ['AUTH.FORBIDDEN', false],
  404: ['RESOURCE.NOT_FOUND', false],
  405: ['REQUEST.METHOD_NOT_ALLOWED', false],
  408: ['REQUEST.TIMEOUT', true],
  413: ['REQUEST.TOO_LARGE', false],
  415: ['REQUEST.UNSUPPORTED_MEDIA_TYPE', false],
  429: ['RATE_LIMIT.EXCEEDED', true],
};

export function toSbError(e: unknown, logger: AppLogger): SbError {
  if (isSbError(e)) return e;
  const status = statusOf(e);
  if (status !== undefined && status < 500) {
    const [code, retryable] = FRAMEWORK_CODES[status] ?? ['REQUEST.INVALID', false];
    const message = status === 404 ? 'Route not found' : frameworkMessage(e, status);
    return new Base(code, status, message, retryable);
  }
  // A deliberate 503 (e.g. /health/ready while a dependency is down) is an answer, not a crash.
  if (status === 503 && e instanceof HttpException) {
    return new Base('SERVICE.UNAVAILABLE', 503, 'Not ready: a dependency is unavailable', true, { retryAfter: 1, details: e.getResponse() });
  }
  const { err } = fromUnexpected(e);
  logger.error({ err: e }, err.status === 503 ? 'dependency failure' : 'unhandled error');
  return err;
}

function statusOf(e: unknown): number | undefined {
  if (e instanceof HttpException) return e.getStatus();
  const s = (e as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function frameworkMessage(e: unknown, status: number): string {
  const code = (e as { code?: unknown })?.code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (e instanceof SyntaxError)) return 'The request body is not valid JSON';
  if (status === 413) return 'The request body is too large';
  if (status === 415) return 'Content-Type must be application/json';
  return e instanceof HttpException ? e.message : 'The request is invalid';
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') {
      const known = isSbError(exception) || (statusOf(exception) ?? 500) < 500;
      return throwError(() => (known ? toSbError(exception, this.logger) : exception));
    }
    const reply = host.switchToHttp().getResponse<FastifyLikeReply>();
    const err = toSbError(exception, this.logger);
    if (err.retryAfter !== undefined) reply.header('Retry-After', String(err.retryAfter));
    reply.status(err.status).header('Content-Type', 'application/json; charset=utf-8').send(err.toWire());
  }
}
