/**
 * NATS credentials (`.creds`: a user JWT and its nkey seed, from `POST /v1/nats/credentials`
 * with role `agent`). Switchboard gives every user a private inbox prefix, `_INBOX_<user public
 * key>`: replies to this agent may arrive only there, so the connection must use it.
 */
import { credsAuthenticator, type ConnectionOptions } from '@nats-io/nats-core';

const JWT_BLOCK = /-----BEGIN NATS USER JWT-----\s*([A-Za-z0-9_\-.]+)\s*-+END NATS USER JWT-+/;

/** The inbox prefix the credentials allow (`_INBOX_<user public key>`). */
export function inboxPrefixOfCreds(creds: string): string {
  const jwt = JWT_BLOCK.exec(creds)?.[1];
  const payload = jwt?.split('.')[1];
  if (!payload) throw new TypeError('natsCreds: not a NATS .creds file (no user JWT block)');
  const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
  if (typeof sub !== 'string' || !sub.startsWith('U')) throw new TypeError('natsCreds: the user JWT names no user key');
  return `_INBOX_${sub}`;
}

/** Connection options with the credentials' authenticator and inbox prefix (an explicit inboxPrefix wins). */
export function withCreds(o: ConnectionOptions, creds: string | undefined): ConnectionOptions {
  if (!creds) return o;
  return { ...o, authenticator: credsAuthenticator(new TextEncoder().encode(creds)), inboxPrefix: o.inboxPrefix ?? inboxPrefixOfCreds(creds) };
}
