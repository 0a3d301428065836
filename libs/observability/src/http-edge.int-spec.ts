/**
 * What every service's HTTP edge does, on a real socket: the reply headers on success and on
 * errors, an empty JSON body taken as no body, CONNECT answered in the contract's shape, and
 * health and metrics on the ops port only when one is set.
 */
import { connect as connectTcp } from 'node:net';
import { Body, Controller, Delete, Get, HttpCode, Module, NotFoundException, Param, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp } from './bootstrap';
import { createLogger } from './logger';
import { ObservabilityModule } from './observability.module';
import { opsUrlOf } from './ops-port';

const deleted: string[] = [];

@Controller('/v1/things')
class ThingsController {
  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return { secret: 'sbk_shown_once', body: body ?? null };
  }

  @Get('/:id')
  get(@Param('id') id: string) {
    if (id === 'nope') throw new NotFoundException();
    return { id };
  }

  @Delete('/:id')
  remove(@Param('id') id: string, @Body() body: unknown) {
    deleted.push(id);
    return { id, body: body ?? null };
  }
}

async function boot(opsPort?: number): Promise<{ app: NestFastifyApplication; url: string }> {
  const logger = createLogger('probe', 'silent');
  const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1_000, OPS_PORT: opsPort };
  @Module({ imports: [ObservabilityModule.forRoot({ service: 'probe', logger, config })], controllers: [ThingsController] })
  class ProbeModule {}
  const { app } = await createServiceApp({ service: 'probe', config, logger, bus: false, module: () => ({ module: ProbeModule }) });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** One request written byte for byte; the status line, headers and body as received (or '' when the server closed without a word). */
function rawHttp(url: string, head: string): Promise<{ status: number; headers: string; body: string; raw: string }> {
  const { hostname: host, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connectTcp({ host, port: Number(port) }, () => sock.write(`${head}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let got = '';
    sock.on('data', (d) => (got += d.toString('utf8')));
    sock.on('close', () => {
      const [h, ...rest] = got.split('\r\n\r\n');
      resolve({ status: Number(h.split(' ')[1] ?? 0), headers: h.toLowerCase(), body: rest.join('\r\n\r\n'), raw: got });
    });
    sock.on('error', reject);
  });
}

const errorShape = { error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean) } };

describe('HTTP edge (every service)', () => {
  describe('one port', () => {
    let app: NestFastifyApplication;
    let url: string;
    beforeAll(async () => ({ app, url } = await boot()));
    afterAll(() => app?.close());

    it('marks every reply no-store and nosniff: one that carries a secret, and an error', async () => {
      const created = await fetch(`${url}/v1/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ secret: 'sbk_shown_once' });
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.headers.get('x-content-type-options')).toBe('nosniff');
      for (const res of [await fetch(`${url}/v1/things/nope`), await fetch(`${url}/nothing-here`)]) {
        expect(res.status).toBe(404);
        expect(await res.json()).toMatchObject(errorShape);
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
    });

    it('takes an empty body sent as application/json as no body (the curl habit), and still refuses bad JSON', async () => {
      const del = await fetch(`${url}/v1/things/t1`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
      expect(del.status).toBe(200);
      expect(await del.json()).toEqual({ id: 't1', body: null });
      expect(deleted).toContain('t1');
      const post = await fetch(`${url}/v1/things`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      expect(post.status).toBe(201);
      const bad = await fetch(`${url}/v1/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'REQUEST.INVALID' } });
      const poisoned = await fetch(`${url}/v1/things`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' });
      expect(poisoned.status).toBe(400);
    });

    it('answers CONNECT with a 405 in the contract shape instead of closing the connection', async () => {
      const r = await rawHttp(url, 'CONNECT example.com:443 HTTP/1.1');
      expect(r.status).toBe(405);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'REQUEST.METHOD_NOT_ALLOWED', retryable: false } });
      expect(r.headers).toContain('x-content-type-options: nosniff');
    });

    it.each([
      ['a method no route has', 'PROPFIND /v1/things/t1 HTTP/1.1', 404],
      ['a method Node does not know', 'FROB /v1/things/t1 HTTP/1.1', 400],
      ['TRACE', 'TRACE /v1/things/t1 HTTP/1.1', 404],
    ])('answers %s in the contract shape', async (_name, head, status) => {
      const r = await rawHttp(url, head);
      expect(r.status).toBe(status);
      expect(JSON.parse(r.body)).toMatchObject(errorShape);
    });

    it('serves health and metrics on the one port when no ops port is set', async () => {
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      expect(opsUrlOf(app)).toBeUndefined();
    });
  });

  describe('with an ops port', () => {
    let app: NestFastifyApplication;
    let url: string;
    let ops: string;
    beforeAll(async () => {
      ({ app, url } = await boot(0));
      ops = opsUrlOf(app)!;
    });
    afterAll(() => app?.close());

    it('serves health and metrics there, with the same headers', async () => {
      expect(ops).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(ops).not.toBe(url);
      const live = await fetch(`${ops}/health/live`);
      expect(live.status).toBe(200);
      expect(live.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await fetch(`${ops}/health/ready`)).status).toBe(200);
      const metrics = await fetch(`${ops}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
    });

    it('answers them on the public port as an unknown route, and the API only on the public port', async () => {
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        const res = await fetch(`${url}${path}`);
        expect(res.status).toBe(404);
        expect(await res.json()).toEqual({ error: { code: 'RESOURCE.NOT_FOUND', message: 'Route not found', retryable: false } });
      }
      expect((await fetch(`${url}/v1/things/t2`)).status).toBe(200);
      const api = await fetch(`${ops}/v1/things/t2`);
      expect(api.status).toBe(404);
      expect(await api.json()).toMatchObject({ error: { code: 'RESOURCE.NOT_FOUND' } });
    });

    it('answers bad HTTP on the ops port in the contract shape too', async () => {
      const r = await rawHttp(ops, 'GET /health/\u00ff HTTP/1.1');
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject(errorShape);
    });

    it('closes the ops port with the app', async () => {
      const other = await boot(0);
      const otherOps = opsUrlOf(other.app)!;
      await other.app.close();
      await expect(fetch(`${otherOps}/health/live`)).rejects.toThrow();
    });
  });
});
