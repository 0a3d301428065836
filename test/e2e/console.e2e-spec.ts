/**
 * The ops console is served by the gateway: a page, its script and style, uPlot and an icon,
 * locked down by CSP; and the console's data routes (session, series, task detail) behind the
 * same credentials and scopes as the rest of `/v1`, with `?tenantId=` for platform admins only.
 * The views themselves are driven in a real browser by test/browser/console.browser-spec.ts.
 */
import { Script } from 'node:vm';
import { eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, operatorKey, tenantWithKey } from './support/http';

jest.setTimeout(90_000);

describe('ops console', () => {
  let fleet: Fleet;
  let tenant: { tenantId: string; key: string };
  let fleetReader: string;
  let taskId: string;
  const call = (method: string, path: string, key?: string, body?: unknown) => http(fleet.httpUrl, method, path, { key, body });

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    tenant = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:submit', 'tasks:read']);
    fleetReader = await operatorKey(fleet.httpUrl, fleet.adminKey, ['fleet:read']);
    const done = await call('POST', '/v1/tasks', tenant.key, { capability: 'echo', input: { note: 'for the console' }, wait: true });
    expect(done.body.status).toBe('succeeded');
    taskId = done.body.taskId;
  });
  afterAll(() => fleet?.stop());

  it('serves the page with a strict CSP, no inline script or style, and its own icon', async () => {
    const res = await fetch(`${fleet.httpUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).toContain('<script src="/console/console.js" defer></script>');
    expect(html).toMatch(/<script src="\/console\/vendor\/uplot-[\d.]+\.min\.js" defer><\/script>/);
    expect(html).toContain('<link rel="icon" href="/console/favicon.svg"');
    expect(html).not.toMatch(/<script>(?!<\/script>)|<style|\sstyle=|\son[a-z]+=/);
    const icon = await fetch(`${fleet.httpUrl}/console/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('serves a script that parses and renders data as text only', async () => {
    const res = await fetch(`${fleet.httpUrl}/console/console.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const js = await res.text();
    expect(() => new Script(js)).not.toThrow();
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    const css = await fetch(`${fleet.httpUrl}/console/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('serves uPlot from node_modules, cached for good under a versioned name; nothing else under vendor/', async () => {
    const html = await (await fetch(`${fleet.httpUrl}/console`)).text();
    const [script, style] = [/src="(\/console\/vendor\/[^"]+\.js)"/, /href="(\/console\/vendor\/[^"]+\.css)"/].map((re) => re.exec(html)![1]);
    const js = await fetch(fleet.httpUrl + script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toContain('uPlot');
    const css = await fetch(fleet.httpUrl + style);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/console/vendor/package.json', '/console/vendor/..%2F..%2Fpackage.json', '/console/vendor/uPlot.iife.min.js']) {
      expect((await fetch(fleet.httpUrl + path)).status).toBe(404);
    }
  });

  it('tells a key what it may see, and guards the data routes like every /v1 route', async () => {
    expect((await call('GET', '/v1/console/session')).status).toBe(401);
    const mine = await call('GET', '/v1/console/session', tenant.key);
    expect(mine).toMatchObject({ status: 200, body: { tenantId: tenant.tenantId, platformAdmin: false, can: { tasks: true, submit: true, liveTasks: true, fleet: false, alerts: false, tenants: false } } });
    expect((await call('GET', '/v1/console/session', fleet.adminKey)).body).toMatchObject({ platformAdmin: true, can: { fleet: true, tenants: true, keys: true } });
    expect((await call('GET', '/v1/console/series', tenant.key)).status).toBe(403);
    expect((await call('GET', '/v1/console/series?minutes=61', fleetReader)).status).toBe(400);
    expect((await call('GET', `/v1/console/tasks/${taskId}`, fleetReader)).status).toBe(403);
    const doc = (await call('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/console/session', '/v1/console/series', '/v1/console/tasks/{id}']));
    expect(doc.paths['/v1/tasks'].get.parameters.map((p: { name: string }) => p.name)).toContain('tenantId');
  });

  it('samples the charts from what reaches the gateway: agents, queues, throughput', async () => {
    const series = await eventually(
      async () => {
        const r = await call('GET', '/v1/console/series?minutes=5', fleetReader);
        const find = (metric: string, labels: Record<string, string>) =>
          r.body.series.find((s: { metric: string; labels: object }) => s.metric === metric && JSON.stringify(s.labels) === JSON.stringify(labels)) as { values: Array<number | null> } | undefined;
        // Throughput above 0: the finished tasks were counted (the tallies of the processes that end tasks), not only a queue seen.
        const finished = find('throughput', { capability: 'echo' })?.values.some((v) => (v ?? 0) > 0);
        return find('agents', { status: 'up' }) && finished === true && find('queueDepth', { capability: 'echo', priority: 'normal' }) ? r.body : false;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'series with agents, throughput and queue depth' },
    );
    expect(series.stepMs).toBe(5_000);
    expect(series.metrics.queueAge.unit).toBe('s');
    for (const s of series.series) expect(s.values).toHaveLength(series.t.length);
  });

  it("shows a task in detail to its tenant, and another tenant's tasks to platform admins only", async () => {
    const detail = await call('GET', `/v1/console/tasks/${taskId}`, tenant.key);
    expect(detail).toMatchObject({ status: 200, body: { taskId, tenantId: tenant.tenantId, input: { note: 'for the console' }, status: 'succeeded', errors: [] } });
    expect(detail.body.timeline.map((e: { kind: string }) => e.kind)).toEqual(['queued', 'running', 'finished']);
    expect((await call('GET', '/v1/console/tasks/not%20an%20id', tenant.key)).status).toBe(400);

    // The admin's own tenant has no such task; naming the tenant finds it, in the list, the detail and the trace.
    expect((await call('GET', `/v1/console/tasks/${taskId}`, fleet.adminKey)).status).toBe(404);
    const scoped = `tenantId=${tenant.tenantId}`;
    expect((await call('GET', `/v1/console/tasks/${taskId}?${scoped}`, fleet.adminKey)).body.taskId).toBe(taskId);
    expect((await call('GET', `/v1/tasks/${taskId}/trace?${scoped}`, fleet.adminKey)).body.taskId).toBe(taskId);
    const listed = await call('GET', `/v1/tasks?${scoped}&capability=echo`, fleet.adminKey);
    expect(listed.body.map((t: { taskId: string }) => t.taskId)).toContain(taskId);

    // A tenant naming another tenant learns nothing: not found, whatever it names.
    const other = await tenantWithKey(fleet.httpUrl, fleet.adminKey, ['tasks:read']);
    for (const path of [`/v1/tasks?${scoped}`, `/v1/console/tasks/${taskId}?${scoped}`, `/v1/tasks/${taskId}/trace?${scoped}`, '/v1/tasks?tenantId=no-such-tenant']) {
      expect(await call('GET', path, other.key)).toMatchObject({ status: 404, body: { error: { code: 'RESOURCE.NOT_FOUND' } } });
    }
    expect((await call('GET', `/v1/tasks?tenantId=${tenant.tenantId}`, tenant.key)).body.map((t: { taskId: string }) => t.taskId)).toContain(taskId);
  });
});
