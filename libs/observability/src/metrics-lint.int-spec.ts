/**
 * A service's /metrics, scraped on its ops port as Prometheus scrapes the gateway's, passes
 * `promtool check metrics` (Prometheus' own exposition linter): no gauge named like a counter,
 * counters end in _total, help on every family. Skipped, saying so, without promtool (.ci/run
 * installs it, Debian package `prometheus`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceApp } from './bootstrap';
import { createLogger } from './logger';
import { MISNAMED_DEFAULT_GAUGES } from './metrics';
import { ObservabilityModule } from './observability.module';
import { opsUrlOf } from './ops-port';

const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))].find((p) => existsSync(p));
if (!promtool) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED promtool check metrics: promtool is not installed');
}
const maybe = promtool ? describe : describe.skip;

@Controller('/v1/things')
class ThingsController {
  @Get('/:id')
  get() {
    return { ok: true };
  }
}

maybe('/metrics under promtool check metrics', () => {
  let app: NestFastifyApplication;
  let exposition: string;

  beforeAll(async () => {
    const logger = createLogger('probe', 'silent');
    // An ops port, as the gateway has (OPS_PORT): /metrics is served there only.
    const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1_000, OPS_PORT: 0 };
    @Module({ imports: [ObservabilityModule.forRoot({ service: 'probe', logger, config })], controllers: [ThingsController] })
    class ProbeModule {}
    ({ app } = await createServiceApp({ service: 'probe', config, logger, bus: false, module: () => ({ module: ProbeModule }) }));
    await app.listen(0, '127.0.0.1');
    const api = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    // Served requests, so the RED counter and histogram have samples, not only their HELP lines.
    for (const id of ['a', 'b']) expect((await fetch(`${api}/v1/things/${id}`)).status).toBe(200);
    const res = await fetch(`${opsUrlOf(app)!}/metrics`);
    expect(res.status).toBe(200);
    exposition = await res.text();
  });
  afterAll(() => app?.close());

  it('passes the linter with no problem reported', () => {
    expect(exposition).toContain('sb_requests_total{');
    expect(exposition).toContain('nodejs_eventloop_lag_p99_seconds');
    const run = spawnSync(promtool!, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    // promtool prints one line per problem ("<name> <problem>") and exits 3 on any.
    expect({ status: run.status, problems: `${run.stdout}${run.stderr}`.trim() }).toEqual({ status: 0, problems: '' });
  });

  it("keeps the active handles, requests and resources by type, without prom-client's *_total gauges", () => {
    for (const name of MISNAMED_DEFAULT_GAUGES) {
      expect(exposition).not.toMatch(new RegExp(`^${name}\\b`, 'm'));
      expect(exposition).toContain(`# TYPE ${name.replace(/_total$/, '')} gauge`);
    }
  });
});
