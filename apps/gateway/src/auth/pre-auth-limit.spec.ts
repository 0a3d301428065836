import { clientKey, httpSource, natsSource } from './request-source';
import { OVERFLOW_SOURCE, SourceBuckets } from './source-buckets';

describe('request sources', () => {
  const req = (remoteAddress: string, xff?: string) => ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } });

  it('is the socket peer over HTTP unless proxies are trusted, then the address the nearest proxy appended', () => {
    expect(httpSource(req('203.0.113.9', '198.51.100.1'))).toBe('ip:203.0.113.9'); // the client wrote that header itself
    expect(httpSource(req('10.0.0.2', '198.51.100.1, 203.0.113.9'), 1)).toBe('ip:203.0.113.9');
    expect(httpSource(req('10.0.0.2', 'forged, 203.0.113.9, 10.0.0.1'), 2)).toBe('ip:203.0.113.9');
    expect(httpSource(req('10.0.0.2', '203.0.113.9'), 3)).toBe('ip:203.0.113.9');
    expect(httpSource(req('10.0.0.2'), 1)).toBe('ip:10.0.0.2');
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 clients by their /64', () => {
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('2001:db8:0:12:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:12::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:0db8:0000:0012::7')).toBe(clientKey('2001:db8:0:12:ffff::1'));
    expect(clientKey('[::1]')).toBe('0:0:0:0::/64');
    expect(clientKey('not an address')).toBe('unknown');
  });

  it("is the server's account and user over NATS, else the connection's inbox prefix", () => {
    const h = (v: string) => ({ get: (n: string) => (n === 'Nats-Request-Info' ? v : '') });
    expect(natsSource({ reply: '_INBOX.abc.17', headers: h('{"acc":"ACCT1","user":"UABC","host":"10.1.2.3"}') })).toBe('nats:acc:ACCT1/UABC');
    expect(natsSource({ reply: '_INBOX.abc.17', headers: h('{"acc":"ACCT1"}') })).toBe('nats:acc:ACCT1');
    expect(natsSource({ reply: '_INBOX.abc.17', headers: h('not json') })).toBe('nats:inbox:_INBOX.abc');
    expect(natsSource({ reply: '_INBOX.abc.18' })).toBe('nats:inbox:_INBOX.abc');
    expect(natsSource({ reply: '_INBOX.perRequestInbox' })).toBe('nats:inbox:_INBOX');
    expect(natsSource({})).toBe('nats:anonymous');
    expect(natsSource({ reply: `_INBOX.${'x'.repeat(500)}.1` }).length).toBeLessThanOrEqual(160);
  });
});

describe('SourceBuckets', () => {
  let t = 0;
  const now = () => t;

  it('gives each source its burst, refills at the rate, and says how long to wait', () => {
    const b = new SourceBuckets(2, 3, now);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBe(500);
    expect(b.take('b')).toBe(0); // another source has its own
    t += 500;
    expect(b.take('a')).toBe(0);
    expect(b.take('a')).toBe(500);
  });

  it('takes a token back when the request authenticated', () => {
    const b = new SourceBuckets(1, 2, now);
    for (let i = 0; i < 100; i++) {
      expect(b.take('good')).toBe(0);
      b.giveBack('good');
    }
  });

  it('holds a bounded number of sources: idle ones are dropped, and new ones share one bucket meanwhile', () => {
    t = 0;
    const b = new SourceBuckets(1, 2, now, 3);
    for (const s of ['a', 'b', 'c']) b.take(s);
    expect(b.take('d')).toBe(0); // no room, none idle: the overflow bucket
    expect(b.take('e')).toBe(0);
    expect(b.take('f')).toBeGreaterThan(0); // they share it
    expect(b.size).toBe(4);
    t += 5_000; // everyone idle, refilled: a sweep makes room
    expect(b.take('g')).toBe(0);
    expect(b.size).toBe(1);
    expect(OVERFLOW_SOURCE).toBe('*');
  });
});
