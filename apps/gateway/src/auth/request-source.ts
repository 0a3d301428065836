/**
 * Who is asking, before anyone is authenticated: what the pre-authentication limit counts per
 * source and what security events name (`source`).
 *
 * HTTP: the client's address. Behind `trustedProxyHops` proxies (a load balancer, an ingress),
 * the address the nearest of them appended to `X-Forwarded-For`; never an address the client
 * wrote itself. An IPv6 client counts per /64 (what one host is given, and can rotate within).
 *
 * NATS: what the server says about the connection, when it says something. A request that came
 * through a service import shared with the platform account carries `Nats-Request-Info`, set by
 * the server: its account and user. Otherwise the reply subject's inbox prefix stands for the
 * connection (a client's requests share one inbox prefix; `_INBOX.` alone for clients that use
 * a new inbox per request). Without NATS authentication a client can name any inbox, so this
 * identifies a connection only as far as the server enforces inbox prefixes per user.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface HttpRequestLike {
  ip?: string;
  socket?: { remoteAddress?: string };
  headers: Record<string, string | string[] | undefined>;
}

export interface NatsMessageLike {
  reply?: string;
  headers?: { get(name: string): string };
}

const MAX_SOURCE = 160;

/** `ip:<address>` (IPv4) or `ip:<first four hextets>::/64` (IPv6) of the client. */
export function httpSource(req: HttpRequestLike, trustedProxyHops = 0): string {
  let addr = req.socket?.remoteAddress ?? req.ip ?? '';
  if (trustedProxyHops > 0) {
    const raw = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',').map((s) => s.trim()).filter(Boolean);
    // Each trusted proxy appended the address it was called from: the client is `hops` from the right.
    if (hops.length > 0) addr = hops[Math.max(0, hops.length - trustedProxyHops)];
  }
  return `ip:${clientKey(addr)}`.slice(0, MAX_SOURCE);
}

/** An address as the limit counts it: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function clientKey(addr: string): string {
  const a = addr.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return 'unknown';
  const [head, tail = ''] = a.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** `nats:acc:<account>/<user>` from the server's request info, else `nats:inbox:<reply prefix>`, else `nats:anonymous`. */
export function natsSource(msg: NatsMessageLike): string {
  const info = readRequestInfo(msg.headers?.get('Nats-Request-Info'));
  if (info) return `nats:acc:${info}`.slice(0, MAX_SOURCE);
  const reply = msg.reply ?? '';
  const dot = reply.lastIndexOf('.');
  if (dot > 0) return `nats:inbox:${reply.slice(0, dot)}`.slice(0, MAX_SOURCE);
  return reply ? `nats:inbox:${reply}`.slice(0, MAX_SOURCE) : 'nats:anonymous';
}

function readRequestInfo(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  try {
    const ci = JSON.parse(raw) as { acc?: unknown; user?: unknown; nkey?: unknown; host?: unknown };
    if (typeof ci.acc !== 'string' || !ci.acc) return undefined;
    const who = [ci.user, ci.nkey, ci.host].find((v): v is string => typeof v === 'string' && v.length > 0);
    return who ? `${ci.acc}/${who}` : ci.acc;
  } catch {
    return undefined;
  }
}
