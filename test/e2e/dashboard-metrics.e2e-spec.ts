/**
 * The Grafana dashboards and the Prometheus alert rules read only series the services really
 * export: scrape /metrics of a running gateway and agent worker after a task ran, and look up
 * every metric name their expressions reference. `up` and `ALERTS` are made by Prometheus
 * itself, so they are the only names allowed without a scrape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards } from '../../tools/manifests/dashboards.builder';
import { alertRuleGroups } from '../../tools/manifests/alert-rules.builder';
import { parseFleetSpec } from '../../tools/manifests/fleet-spec.loader';
import { exposedNames, expressionsIn, metricNamesIn } from '../../tools/manifests/promql-metrics';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';

jest.setTimeout(60_000);

const PROMETHEUS_OWN = new Set(['up', 'ALERTS']);

describe('dashboards and alert rules against a live /metrics scrape', () => {
  let fleet: Fleet;
  let exposed: Set<string>;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    const { key } = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 'metrics', wait: true } });
    expect(r.body).toMatchObject({ status: 'succeeded' });
    const worker = fleet.apps[fleet.apps.length - 1];
    const workerUrl = (await worker.getUrl()).replace('[::1]', '127.0.0.1');
    const scrapes = await Promise.all([fleet.httpUrl, workerUrl].map((u) => fetch(`${u}/metrics`).then((res) => res.text())));
    exposed = new Set(scrapes.flatMap((s) => [...exposedNames(s)]));
  });
  afterAll(() => fleet?.stop());

  const missingFrom = (exprs: string[]) => [...new Set(exprs.flatMap(metricNamesIn))].filter((n) => !PROMETHEUS_OWN.has(n) && !exposed.has(n));

  it('the scrape has the worker task series once a task ran', () => {
    for (const n of ['sb_requests_total', 'sb_request_duration_seconds_bucket', 'sb_worker_tasks_total', 'sb_worker_task_duration_seconds_bucket']) expect(exposed.has(n)).toBe(true);
  });

  it.each(allDashboards().map(([file, d]) => [file, d] as const))('%s references only exported metrics', (_file, dashboard) => {
    const exprs = expressionsIn(dashboard);
    expect(exprs.length).toBeGreaterThan(3);
    expect(missingFrom(exprs)).toEqual([]);
  });

  it('the alert rules reference only exported metrics', () => {
    const spec = parseFleetSpec(readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8'));
    const exprs = alertRuleGroups(spec).flatMap((g) => g.rules.map((r) => r.expr));
    expect(missingFrom(exprs)).toEqual([]);
  });
});
