/** The ops console is served by the gateway: a page, its script and its style, locked down by CSP. */
import { Script } from 'node:vm';
import { type Fleet, startFleet } from './support/fleet';

jest.setTimeout(60_000);

describe('ops console', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ workers: 0 });
  });
  afterAll(() => fleet?.stop());

  it('serves the page with a strict CSP and no inline script', async () => {
    const res = await fetch(`${fleet.httpUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).toContain('<script src="/console/console.js" defer></script>');
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
  });

  it('serves a script that parses and renders data as text only', async () => {
    const res = await fetch(`${fleet.httpUrl}/console/console.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await res.text();
    expect(() => new Script(js)).not.toThrow();
    expect(js).not.toContain('innerHTML');
    const css = await fetch(`${fleet.httpUrl}/console/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });
});
