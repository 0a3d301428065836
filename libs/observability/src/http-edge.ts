/**
 * What every HTTP exchange gets at the edge, around Nest's routing: the contract's error body for
 * what the framework or Node answer themselves, the response headers every reply carries, and a
 * JSON body parser that takes an empty body as no body.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export function errorBody(code: string, message: string, retryable = false): string {
  return JSON.stringify({ error: { code, message, retryable } });
}

/**
 * On every reply, errors included: nothing an API answers (a new key, a task's result) is kept by
 * a browser or a proxy cache, and no browser guesses a content type from the body.
 */
export const REPLY_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function addReplyHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (_req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    for (const [name, value] of Object.entries(REPLY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
}

/** A whole HTTP/1.1 reply with the contract's error body, written straight to a socket (no request object exists). */
export function rawErrorReply(status: number, code: string, message: string, retryable = false): string {
  const body = errorBody(code, message, retryable);
  const headers = Object.entries(REPLY_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * `CONNECT` (a proxy tunnel request): Node hands it to the server's `connect` listeners and, with
 * none, closes the connection without a word. No route serves it: 405 in the contract's shape.
 */
export function answerConnect(server: { on(event: 'connect', cb: (req: unknown, socket: Duplex) => void): unknown }): void {
  server.on('connect', (_req, socket) => {
    if (socket.destroyed || !socket.writable) return;
    socket.end(rawErrorReply(405, 'REQUEST.METHOD_NOT_ALLOWED', 'The CONNECT method is not supported'));
  });
}

type JsonParser = (req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void;

/**
 * Fastify's own JSON parser (prototype poisoning refused), except that an empty body is no body:
 * `curl -H 'content-type: application/json' -X DELETE …` must revoke the key, not get a 400.
 * A route that needs a body still refuses `undefined` through its contract schema.
 */
export function emptyOrJsonParser(fastify: FastifyInstance): JsonParser {
  const json = fastify.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  return (req, body, done) => (body.length === 0 ? done(null, undefined) : json(req, body, done));
}
