/**
 * Health and metrics on a port of their own (`OPS_PORT`), for probes and Prometheus only: a
 * published service (the gateway) then shows neither `/health/*` (which names its dependencies)
 * nor `/metrics` to the world. The ops server hands its requests to the same Fastify router, so
 * hooks, error shapes and headers are the public port's; a hook sends a request for an ops
 * route on the public port, or for any other route on the ops port, to the contract's 404.
 * Without `OPS_PORT` one port serves everything (services that are never published).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './http-edge';

/** The routes the ops port serves (HealthController's). */
export const OPS_ROUTES: ReadonlySet<string> = new Set(['/health/live', '/health/ready', '/metrics']);

const viaOpsPort = new WeakSet<IncomingMessage>();
const opsServers = new WeakMap<object, Server>();

export interface OpsPortOptions {
  port: number;
  host: string;
  /** What the public server does with a request that is not valid HTTP (same on both ports). */
  onClientError: (err: NodeJS.ErrnoException, socket: Duplex) => void;
}

/** Serve the ops routes on `opts.port` (opened with the public port, closed with the app) and only there. */
export function serveOpsPort(fastify: FastifyInstance, opts: OpsPortOptions): void {
  const server = createServer((req, res) => {
    viaOpsPort.add(req);
    fastify.routing(req, res);
  });
  server.on('clientError', opts.onClientError);
  opsServers.set(fastify, server);
  fastify.addHook('onRequest', async (req, reply) => {
    const opsRoute = OPS_ROUTES.has(req.routeOptions?.url ?? '');
    if (opsRoute === viaOpsPort.has(req.raw)) return;
    return reply.code(404).header('content-type', 'application/json; charset=utf-8').send(errorBody('RESOURCE.NOT_FOUND', 'Route not found'));
  });
  // onReady runs inside listen(): a port in use fails the start like the public port would.
  fastify.addHook('onReady', () => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  }));
  fastify.addHook('onClose', () => new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  }));
}

/** `http://host:port` of the app's ops server once listening; undefined without one. */
export function opsUrlOf(app: { getHttpAdapter(): { getInstance(): object } }): string | undefined {
  const address = opsServers.get(app.getHttpAdapter().getInstance())?.address() as AddressInfo | null | undefined;
  if (!address) return undefined;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
}
