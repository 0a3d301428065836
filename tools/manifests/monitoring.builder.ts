/**
 * Monitoring objects: Prometheus Operator ServiceMonitors (/metrics of every service, and the
 * collector's /metrics/fleet as a job of its own) and a PrometheusRule, the Grafana
 * dashboards in a ConfigMap (picked up by the Grafana sidecar through its label), and for docker
 * compose a plain prometheus.yml plus rules.yml with the same rules.
 */
import type { V1ConfigMap, V1LabelSelector } from '@kubernetes/client-node';
import type { FleetSpec } from './fleet-spec.schema';
import { alertRuleGroups } from './alert-rules.builder';
import type { PrometheusRule, ServiceMonitor } from './crd.types';
import { allDashboards } from './dashboards.builder';
import { PART_OF, PLATFORM_TRAITS, WORKER_PORT } from './platform-catalog';
import { PLATFORM_SERVICES } from './fleet-spec.schema';
import { opsPortName, type Workload } from './workload.model';

const partOf = { 'app.kubernetes.io/part-of': PART_OF };

/** Extra scrape paths (the collector's /metrics/fleet) as their own job: `<workload>-<last path segment>`. */
export function extraScrapes(ws: Workload[]): Array<{ job: string; w: Workload; path: string }> {
  return ws.flatMap((w) => w.metricsPaths.filter((p) => p !== '/metrics').map((path) => ({ job: `${w.name}-${path.split('/').pop()}`, w, path })));
}

/**
 * One ServiceMonitor for every service's /metrics (job = the app name; the gateway's on its ops
 * port, in a monitor of its own since no other Service has that port), and one per extra path
 * (the collector's /metrics/fleet, job `metrics-collector-fleet`), so the fleet series never mix
 * with the collector's own and a 404 is never scraped from services without the path.
 */
export function serviceMonitorsOf(fleet: FleetSpec, ws: Workload[]): ServiceMonitor[] {
  const m = fleet.spec.monitoring;
  // Under STRICT mTLS Prometheus scrapes through Istio's certificates, mounted the way Istio's
  // Prometheus integration documents (sidecar.istio.io/userVolumeMount on the Prometheus pod).
  const tls = fleet.spec.mesh.istio
    ? { scheme: 'https' as const, tlsConfig: { caFile: '/etc/prom-certs/root-cert.pem', certFile: '/etc/prom-certs/cert-chain.pem', keyFile: '/etc/prom-certs/key.pem', insecureSkipVerify: true } }
    : {};
  const monitor = (name: string, selector: V1LabelSelector, endpoint: ServiceMonitor['spec']['endpoints'][number]): ServiceMonitor => ({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name, namespace: fleet.metadata.namespace, labels: { ...partOf, ...m.selectorLabels } },
    spec: {
      jobLabel: 'app.kubernetes.io/name',
      selector,
      namespaceSelector: { matchNames: [fleet.metadata.namespace] },
      endpoints: [endpoint],
    },
  });
  // Services with an ops port (the gateway) are scraped there, by a monitor of their own.
  const ownOpsPort = ws.filter((w) => w.opsPort !== w.port);
  const everyService = { matchLabels: { ...partOf, 'app.kubernetes.io/instance': fleet.metadata.name } };
  const others = ownOpsPort.length ? { ...everyService, matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: ownOpsPort.map((w) => w.name) }] } : everyService;
  return [
    monitor('switchboard', others, { port: 'http', path: '/metrics', interval: m.scrapeInterval, ...tls }),
    ...ownOpsPort.map((w) => monitor(`${w.name}-ops`, { matchLabels: w.selector }, { port: opsPortName(w), path: '/metrics', interval: m.scrapeInterval, ...tls })),
    ...extraScrapes(ws).map(({ job, w, path }) =>
      monitor(job, { matchLabels: w.selector }, { port: 'http', path, interval: m.scrapeInterval, ...tls, relabelings: [{ action: 'replace', targetLabel: 'job', replacement: job }] }),
    ),
  ];
}

export function prometheusRuleOf(fleet: FleetSpec): PrometheusRule {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'switchboard', namespace: fleet.metadata.namespace, labels: { ...partOf, ...fleet.spec.monitoring.selectorLabels } },
    spec: { groups: alertRuleGroups(fleet) },
  };
}

export const dashboardJson = (d: unknown) => `${JSON.stringify(d, null, 2)}\n`;

export function dashboardsConfigMapOf(fleet: FleetSpec): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'switchboard-dashboards',
      namespace: fleet.metadata.namespace,
      // The kube-prometheus-stack Grafana sidecar loads every ConfigMap with this label.
      labels: { ...partOf, grafana_dashboard: '1' },
      annotations: { grafana_folder: 'Switchboard' },
    },
    data: Object.fromEntries(allDashboards().map(([file, d]) => [file, dashboardJson(d)])),
  };
}

/**
 * Compose: one job per service, found by Docker's DNS so `--scale agent-worker=3` is scraped too,
 * plus the collector's fleet exposition as job `metrics-collector-fleet`.
 */
export function composePrometheusConfig(fleet: FleetSpec): unknown {
  const targets: Array<[string, number, string]> = [
    // /metrics where health is: the service's ops port (the gateway's OPS_PORT) or its HTTP port.
    ...PLATFORM_SERVICES.map((s): [string, number, string] => [s, PLATFORM_TRAITS[s].opsPort ?? fleet.spec.services[s].port ?? PLATFORM_TRAITS[s].port, '/metrics']),
    ['agent-worker', WORKER_PORT, '/metrics'],
  ];
  for (const s of PLATFORM_SERVICES) {
    for (const path of PLATFORM_TRAITS[s].extraMetricsPaths) targets.push([s, fleet.spec.services[s].port ?? PLATFORM_TRAITS[s].port, path]);
  }
  return {
    global: { scrape_interval: fleet.spec.monitoring.scrapeInterval, evaluation_interval: fleet.spec.monitoring.scrapeInterval },
    rule_files: ['rules.yml'],
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
      ...targets.map(([name, port, path]) => ({
        job_name: path === '/metrics' ? name : `${name}-${path.split('/').pop()}`,
        metrics_path: path,
        dns_sd_configs: [{ names: [name], type: 'A', port, refresh_interval: '30s' }],
      })),
    ],
  };
}

export function composeRules(fleet: FleetSpec): unknown {
  return { groups: alertRuleGroups(fleet) };
}
