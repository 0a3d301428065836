/**
 * JSON logging with pino. Secrets are redacted by path (pino's `redact`). Nest's framework logs
 * reach the same logger through nestjs-pino (see ObservabilityModule).
 */
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
