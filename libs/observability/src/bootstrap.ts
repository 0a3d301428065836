/**
 * Boots one service: Fastify-backed Nest app, pino logs, the JSON error filter, HTTP RED
 * metrics, and shutdown on SIGTERM/SIGINT within a grace period. Used by every main.ts and by
 * tests that run a service in-process.
 */
import 'reflect-metadata';
import type { DynamicModule, INestApplicationContext } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import type { Duplex } from 'node:stream';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpErrorFilter } from './http-error.filter';
import { addReplyHeaders, answerConnect, emptyOrJsonParser, errorBody, rawErrorReply } from './http-edge';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { type AppLogger, createLogger } from './logger';
import { ServiceMetrics } from './metrics';
import { OPS_ROUTES, serveOpsPort } from './ops-port';
import { TRANSPORT_STRATEGY } from './tokens';
import { exitOnConfigError } from '@sb/config';

/** Fastify's own URL errors (before routing), as the contract's: status and message. */
const FRAMEWORK_URL_ERRORS: Record<string, [number, string]> = {
  FST_ERR_BAD_URL: [400, 'The URL is not valid: bad percent-encoding or characters'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A path parameter is too long'],
};

const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Not valid HTTP (Node's parser refused it before Fastify saw a request): the contract's error, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'REQUEST.TIMEOUT', 'The request took too long to arrive'] : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'REQUEST.TOO_LARGE', 'The request headers are too large'] : [400, 'REQUEST.MALFORMED', 'The request is not valid HTTP'];
  socket.end(rawErrorReply(status, code, message, status === 408));
}

export interface ServiceBootOptions {
  service: string;
  /** With `OPS_PORT`, health and metrics are served there and only there (see ops-port.ts). */
  config: { HTTP_PORT: number; HTTP_HOST: string; LOG_LEVEL: string; SHUTDOWN_GRACE_MS: number; OPS_PORT?: number };
  /** Builds the root module; receives the logger so modules can inject it. */
  module: (logger: AppLogger) => DynamicModule;
  bodyLimitBytes?: number;
  logger?: AppLogger;
  /** Serve the module's bus handlers (its MessagingModule's transport). false: an HTTP-only app (the agent worker). Default true. */
  bus?: boolean;
}

export async function createServiceApp(opts: ServiceBootOptions): Promise<{ app: NestFastifyApplication; logger: AppLogger }> {
  const logger = opts.logger ?? createLogger(opts.service, opts.config.LOG_LEVEL);
  const adapter = new FastifyAdapter({
    bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    logger: false,
    return503OnClosing: true,
    // Errors Fastify raises before any route runs leave in the contract's shape too.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const [status, message] = FRAMEWORK_URL_ERRORS[err.code] ?? [400, 'The request is invalid'];
      void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(errorBody(status === 414 ? 'REQUEST.TOO_LARGE' : 'REQUEST.INVALID', message));
    },
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(opts.module(logger), adapter, {
    // Nest's own logs are held until nestjs-pino's logger (from ObservabilityModule) takes them.
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new HttpErrorFilter(logger));
  // The bus as a second transport of the same app: its handlers get the app's global filter,
  // guards and pipes (inheritAppConfig), and are served from bootstrap on.
  const strategy = opts.bus === false ? undefined : optionalGet<CustomTransportStrategy>(app, TRANSPORT_STRATEGY);
  if (strategy) app.connectMicroservice({ strategy }, { inheritAppConfig: true });
  const metrics = app.get(ServiceMetrics);
  const fastify = app.getHttpAdapter().getInstance();
  // The edge every reply and request gets (http-edge.ts): an empty JSON body is no body, no-store
  // and nosniff on every reply, CONNECT answered; health and metrics on the ops port if one is set.
  app.useBodyParser('application/json', { bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT }, emptyOrJsonParser(fastify));
  addReplyHeaders(fastify);
  answerConnect(fastify.server);
  if (opts.config.OPS_PORT !== undefined) serveOpsPort(fastify, { port: opts.config.OPS_PORT, host: opts.config.HTTP_HOST, onClientError: answerClientError });
  fastify.addHook('onRequest', async (req) => {
    (req as unknown as { sbStart: bigint }).sbStart = process.hrtime.bigint();
  });
  fastify.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions?.url ?? 'unmatched';
    if (OPS_ROUTES.has(route)) return;
    const start = (req as unknown as { sbStart?: bigint }).sbStart ?? process.hrtime.bigint();
    const code = reply.statusCode >= 400 ? String(reply.statusCode) : '';
    metrics.observe('http', `${req.method} ${route}`, start, code);
  });
  return { app, logger };
}

/** Create, listen, and wire process-level handlers. Returns once the HTTP port is open. */
export async function runService(opts: ServiceBootOptions): Promise<NestFastifyApplication> {
  const { app, logger } = await createServiceApp(opts);
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: opts.config.SHUTDOWN_GRACE_MS }, 'shutting down');
    // Hard stop if draining takes longer than the grace period (plus a little for the drain itself).
    setTimeout(() => {
      logger.error('shutdown grace period exceeded; exiting');
      process.exit(1);
    }, opts.config.SHUTDOWN_GRACE_MS + 2_000).unref();
    app
      .close()
      .then(() => {
        logger.info('stopped');
        logger.flush?.();
        process.exit(0);
      })
      .catch((e: unknown) => {
        logger.error({ err: e }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await app.listen(opts.config.HTTP_PORT, opts.config.HTTP_HOST);
  logger.info({ port: opts.config.HTTP_PORT, opsPort: opts.config.OPS_PORT }, `${opts.service} listening`);
  return app;
}

/**
 * The whole of a service's main.ts: parse config from the environment (a bad variable stops
 * the process with its name), build the module, listen.
 */
export function launch<C extends ServiceBootOptions['config']>(
  service: string,
  load: (env: Record<string, string | undefined>) => C,
  module: (config: C, logger: AppLogger) => DynamicModule,
  extra: Pick<ServiceBootOptions, 'bus'> = {},
): void {
  const config = exitOnConfigError(service, () => load(process.env));
  runService({ service, config, module: (logger) => module(config, logger), ...extra }).catch((e: unknown) => {
    process.stderr.write(`${service} failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

function optionalGet<T>(app: INestApplicationContext, token: symbol): T | undefined {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}
