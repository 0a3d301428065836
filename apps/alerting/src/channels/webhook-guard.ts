/**
 * The SSRF guard of notification channels. A channel's URL is chosen by whoever may configure
 * channels, and alerting runs inside the platform's network: without a guard a "webhook" could
 * POST to NATS monitoring, Redis, a pod's admin port or the cloud metadata service
 * (169.254.169.254). So:
 * - at create/update time a URL whose host is a literal address in a non-public range is refused
 *   (a host name is judged at send time: what it resolves to can change);
 * - at send time the host is resolved (every address), and the request is refused if any address
 *   is non-public, unless ALERTING_WEBHOOK_ALLOW allows it (CIDRs, or host names trusted whatever
 *   they resolve to). The connection then goes to the checked address only (`pinned`), so a DNS
 *   answer that changes between check and connect (rebinding) cannot redirect it.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { type AddressClass, classifyAddress, embeddedIpv4 } from './address-class';

export type Resolver = (host: string) => Promise<LookupAddress[]>;
export type GuardVerdict = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** ALERTING_WEBHOOK_ALLOW entries: `10.1.0.0/16`, `192.168.1.5`, `fd00::/8`, `alertmanager.monitoring.svc`. */
export class WebhookAllowList {
  private readonly cidrs = new BlockList();
  private readonly hosts = new Set<string>();
  private empty = true;

  /** Throws with the offending entry when one is neither a CIDR, an address nor a host name. */
  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const e = raw.trim().toLowerCase();
      if (e === '') continue;
      this.empty = false;
      const [addr, len, extra] = e.split('/');
      const family = isIP(addr.replace(/^\[|\]$/g, ''));
      if (family !== 0 && extra === undefined) {
        const bits = len === undefined ? (family === 4 ? 32 : 128) : Number(len);
        if (!/^\d{1,3}$/.test(len ?? '0') || bits > (family === 4 ? 32 : 128)) throw new Error(`"${raw}" is not a CIDR (bad prefix length)`);
        this.cidrs.addSubnet(addr.replace(/^\[|\]$/g, ''), bits, family === 4 ? 'ipv4' : 'ipv6');
      } else if (len === undefined && HOST_NAME.test(e)) {
        this.hosts.add(e.replace(/\.$/, ''));
      } else {
        throw new Error(`"${raw}" is neither a CIDR, an IP address nor a host name`);
      }
    }
  }

  get isEmpty(): boolean {
    return this.empty;
  }

  allowsHost(host: string): boolean {
    return this.hosts.has(host.toLowerCase().replace(/\.$/, ''));
  }

  allowsAddress(ip: string): boolean {
    const bare = ip.replace(/^\[|\]$/g, '').split('%')[0];
    const v4 = isIP(bare) === 6 ? embeddedIpv4(bare) : undefined;
    if (v4 !== undefined && this.cidrs.check(v4, 'ipv4')) return true;
    return this.cidrs.check(bare, isIP(bare) === 4 ? 'ipv4' : 'ipv6');
  }
}

const defaultResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** `localhost` and `*.localhost` are loopback by definition (RFC 6761): refused when saved, not only when sent. */
const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/i.test(host);

export class WebhookGuard {
  constructor(
    private readonly allow: WebhookAllowList,
    private readonly resolver: Resolver = defaultResolver,
  ) {}

  /** Create/update time: why this URL is refused, judging only what needs no DNS; undefined if it may be saved. */
  checkUrl(url: string): string | undefined {
    const host = hostOf(url);
    if (host === undefined || this.allow.allowsHost(host)) return undefined;
    if (isLocalhostName(host)) return this.allow.allowsAddress('127.0.0.1') ? undefined : refusal(host, 'loopback');
    const cls = classifyAddress(host);
    if (cls === undefined || cls === 'public' || this.allow.allowsAddress(host)) return undefined;
    return refusal(host, cls);
  }

  /** Send time: the one address to connect to, or why not. DNS failures are thrown (a retry may help). */
  async resolve(url: string): Promise<GuardVerdict> {
    const host = hostOf(url);
    if (host === undefined) return { ok: false, reason: 'not an http(s) URL' };
    const trusted = this.allow.allowsHost(host);
    const literal = isIP(host.replace(/^\[|\]$/g, ''));
    const addresses: LookupAddress[] = literal !== 0 ? [{ address: host.replace(/^\[|\]$/g, ''), family: literal }] : await this.resolver(host);
    if (addresses.length === 0) return { ok: false, reason: `${host} has no address` };
    if (!trusted) {
      for (const a of addresses) {
        const cls = classifyAddress(a.address) ?? 'reserved';
        if (cls === 'public' || this.allow.allowsAddress(a.address)) continue;
        return { ok: false, reason: refusal(literal ? host : `${host} (${a.address})`, cls) };
      }
    }
    const first = addresses[0];
    return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
  }
}

/** The URL's host as the WHATWG parser canonicalises it (`0x7f.1` → `127.0.0.1`, IPv6 in brackets). */
function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname : undefined;
  } catch {
    return undefined;
  }
}

function refusal(what: string, cls: AddressClass): string {
  return `refused: ${what} is not a public address (${cls.replace('_', '-')}) and not in ALERTING_WEBHOOK_ALLOW`;
}
