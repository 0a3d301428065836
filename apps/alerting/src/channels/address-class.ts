/**
 * What kind of network an IP address belongs to, for the webhook SSRF guard: anything but
 * `public` is inside some private, local or special-purpose range a notification must not reach
 * unless the operator allows it (ALERTING_WEBHOOK_ALLOW). IPv6 addresses that carry an IPv4
 * address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`) are
 * judged by the IPv4 address they reach.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export const ADDRESS_CLASSES = [
  'public',
  'loopback',
  'private',
  'link_local',
  'unique_local',
  'shared_cgnat',
  'unspecified',
  'multicast',
  'broadcast',
  'reserved',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

const V4: Array<[AddressClass, string, number]> = [
  ['unspecified', '0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host
  ['private', '10.0.0.0', 8],
  ['shared_cgnat', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link_local', '169.254.0.0', 16], // 169.254.169.254: cloud metadata
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24], // IETF protocol assignments
  ['private', '192.168.0.0', 16],
  ['reserved', '198.18.0.0', 15], // benchmarking, often used inside networks
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4], // includes 255.255.255.255, classed below
];
const V6: Array<[AddressClass, string, number]> = [
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['unique_local', 'fc00::', 7],
  ['link_local', 'fe80::', 10],
  ['private', 'fec0::', 10], // deprecated site-local
  ['multicast', 'ff00::', 8],
];

function listOf(ranges: Array<[AddressClass, string, number]>, family: 'ipv4' | 'ipv6'): Array<[AddressClass, BlockList]> {
  return ranges.map(([cls, net, prefix]) => {
    const b = new BlockList();
    b.addSubnet(net, prefix, family);
    return [cls, b];
  });
}
const V4_LISTS = listOf(V4, 'ipv4');
const V6_LISTS = listOf(V6, 'ipv6');

/** The eight 16-bit words of an IPv6 address (already known valid), zone id dropped. */
export function ipv6Words(ip: string): number[] {
  let s = ip.replace(/^\[|\]$/g, '').split('%')[0].toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    s = `${s.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((w) => parseInt(w, 16));
}

/** The IPv4 address an IPv6 address carries, if it is one of the forms that reach IPv4. */
export function embeddedIpv4(ip: string): string | undefined {
  const w = ipv6Words(ip);
  const zeros = (n: number) => w.slice(0, n).every((x) => x === 0);
  const mapped = zeros(5) && w[5] === 0xffff;
  const compatible = zeros(6) && (w[6] !== 0 || w[7] > 1); // not :: or ::1
  const nat64 = w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  return [w[6] >> 8, w[6] & 0xff, w[7] >> 8, w[7] & 0xff].join('.');
}

/** The class of a literal IP address (brackets allowed); undefined when it is not one. */
export function classifyAddress(ip: string): AddressClass | undefined {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) {
    if (bare === '255.255.255.255') return 'broadcast';
    return V4_LISTS.find(([, b]) => b.check(bare, 'ipv4'))?.[0] ?? 'public';
  }
  if (!isIPv6(bare.split('%')[0])) return undefined;
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined) return classifyAddress(v4);
  const plain = bare.split('%')[0];
  return V6_LISTS.find(([, b]) => b.check(plain, 'ipv6'))?.[0] ?? 'public';
}
