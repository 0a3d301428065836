/**
 * JSON logging with pino. Secrets are redacted by path (pino's `redact`), and a Nest
 * LoggerService adapter routes framework logs through the same logger.
 *
 * nestjs-pino 5 needs Node >= 22.12 and 4.x does not support Nest 12, so the adapter is
 * written here (30 lines) rather than pulled in.
 */
import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'Authorization',
  'credential',
  'key',
  'apiKey',
  'token',
  'password',
  'secret',
  '*.authorization',
  '*.Authorization',
  '*.credential',
  '*.key',
  '*.apiKey',
  '*.token',
  '*.password',
  '*.secret',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
];

export type AppLogger = Logger;

export function createLogger(service: string, level: string, destination?: pino.DestinationStream): AppLogger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Nest framework logs → pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, stackOrContext?: string, context?: string) {
    this.logger.error({ context: context ?? stackOrContext, stack: context ? stackOrContext : undefined }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string) {
    this.logger.fatal({ context }, String(message));
  }
  setLogLevels(_levels: LogLevel[]) {
    /* the level comes from LOG_LEVEL */
  }
}
