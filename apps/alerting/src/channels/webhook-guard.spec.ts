import type { LookupAddress } from 'node:dns';
import { WebhookAllowList, WebhookGuard } from './webhook-guard';

const dns = (table: Record<string, string[]>) => async (host: string): Promise<LookupAddress[]> => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const TABLE = {
  'hooks.example.com': ['93.184.215.14'],
  'internal.example.com': ['10.0.0.7'],
  'mixed.example.com': ['93.184.215.14', '127.0.0.1'],
  'metadata.example.com': ['::ffff:169.254.169.254'],
  'am.monitoring.svc': ['10.96.0.12'],
  'lab.example.com': ['192.168.7.20'],
};
const guard = (allow: string[] = []) => new WebhookGuard(new WebhookAllowList(allow), dns(TABLE));

describe('WebhookGuard at create time (literal addresses only)', () => {
  it.each([
    'http://127.0.0.1:8222/varz',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://0/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3:6379/',
    'http://100.64.0.1/',
    'http://[::1]:4222/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://localhost:8080/',
    'http://api.localhost/',
  ])('refuses %s', (url) => expect(guard().checkUrl(url)).toMatch(/^refused: .* is not a public address \(.+\) and not in ALERTING_WEBHOOK_ALLOW$/));

  it('lets public addresses and host names through (names are judged when sending)', () => {
    for (const url of ['https://93.184.215.14/x', 'https://hooks.example.com/x', 'http://internal.example.com/x', 'https://[2606:4700::1111]/']) expect(guard().checkUrl(url)).toBeUndefined();
  });

  it('allows what the allow-list names', () => {
    const g = guard(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'localhost']);
    for (const url of ['http://127.0.0.1:9/', 'http://10.9.9.9/', 'http://[fd00::5]/', 'http://[::ffff:10.1.1.1]/', 'http://localhost/']) expect(g.checkUrl(url)).toBeUndefined();
    expect(g.checkUrl('http://127.0.0.2/')).toMatch(/loopback/);
    expect(g.checkUrl('http://169.254.169.254/')).toMatch(/link-local/);
    expect(guard(['127.0.0.0/8']).checkUrl('http://localhost/')).toBeUndefined();
  });
});

describe('WebhookGuard at send time', () => {
  it('resolves the host and pins a checked public address', async () => {
    await expect(guard().resolve('https://hooks.example.com/x')).resolves.toEqual({ ok: true, address: '93.184.215.14', family: 4 });
    await expect(guard().resolve('http://93.184.215.14/')).resolves.toEqual({ ok: true, address: '93.184.215.14', family: 4 });
  });

  it('refuses a host name resolving to a private address, and one with any non-public address among its answers', async () => {
    await expect(guard().resolve('http://internal.example.com/')).resolves.toEqual({ ok: false, reason: expect.stringMatching(/internal\.example\.com \(10\.0\.0\.7\) is not a public address \(private\)/) });
    await expect(guard().resolve('http://mixed.example.com/')).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('(loopback)') });
    await expect(guard().resolve('http://metadata.example.com/')).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('(link-local)') });
    await expect(guard().resolve('http://[::ffff:7f00:1]:4222/')).resolves.toMatchObject({ ok: false });
  });

  it('allows a trusted host name whatever it resolves to, and addresses inside allowed CIDRs', async () => {
    const g = guard(['am.monitoring.svc', '192.168.7.0/24']);
    await expect(g.resolve('http://am.monitoring.svc:9093/api/v2/alerts')).resolves.toEqual({ ok: true, address: '10.96.0.12', family: 4 });
    await expect(g.resolve('http://lab.example.com/')).resolves.toEqual({ ok: true, address: '192.168.7.20', family: 4 });
    await expect(g.resolve('http://internal.example.com/')).resolves.toMatchObject({ ok: false });
  });

  it('lets a DNS failure through as an error (a retry may help)', async () => {
    await expect(guard().resolve('http://nowhere.example.com/')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('with the system resolver, localhost is loopback', async () => {
    await expect(new WebhookGuard(new WebhookAllowList([])).resolve('http://localhost:1/')).resolves.toMatchObject({ ok: false, reason: expect.stringContaining('(loopback)') });
  });
});

describe('WebhookAllowList', () => {
  it('takes CIDRs, addresses and host names, and refuses anything else with the entry named', () => {
    expect(new WebhookAllowList(['10.0.0.0/8', ' 192.168.1.5 ', 'fd00::/8', '[::1]', 'AM.Monitoring.svc.', '']).allowsHost('am.monitoring.svc')).toBe(true);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/8/1', 'http://x', 'a b', 'fd00::/129', '-bad-.com']) expect(() => new WebhookAllowList([bad])).toThrow(bad);
  });
});
