/**
 * Monitoring objects: a Prometheus Operator ServiceMonitor and PrometheusRule, the Grafana
 * dashboards in a ConfigMap (picked up by the Grafana sidecar through its label), and for docker
 * compose a plain prometheus.yml plus rules.yml with the same rules.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { FleetSpec } from './fleet-spec.schema';
import { alertRuleGroups } from './alert-rules.builder';
import type { PrometheusRule, ServiceMonitor } from './crd.types';
import { allDashboards } from './dashboards.builder';
import { PART_OF, PLATFORM_TRAITS, WORKER_PORT } from './platform-catalog';
import { PLATFORM_SERVICES } from './fleet-spec.schema';

const partOf = { 'app.kubernetes.io/part-of': PART_OF };

export function serviceMonitorOf(fleet: FleetSpec): ServiceMonitor {
  const m = fleet.spec.monitoring;
  // Under STRICT mTLS Prometheus scrapes through Istio's certificates, mounted the way Istio's
  // Prometheus integration documents (sidecar.istio.io/userVolumeMount on the Prometheus pod).
  const tls = fleet.spec.mesh.istio
    ? { scheme: 'https' as const, tlsConfig: { caFile: '/etc/prom-certs/root-cert.pem', certFile: '/etc/prom-certs/cert-chain.pem', keyFile: '/etc/prom-certs/key.pem', insecureSkipVerify: true } }
    : {};
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: 'switchboard', namespace: fleet.metadata.namespace, labels: { ...partOf, ...m.selectorLabels } },
    spec: {
      jobLabel: 'app.kubernetes.io/name',
      selector: { matchLabels: { ...partOf, 'app.kubernetes.io/instance': fleet.metadata.name } },
      namespaceSelector: { matchNames: [fleet.metadata.namespace] },
      endpoints: [{ port: 'http', path: '/metrics', interval: m.scrapeInterval, ...tls }],
    },
  };
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

/** Compose: one job per service, found by Docker's DNS so `--scale agent-worker=3` is scraped too. */
export function composePrometheusConfig(fleet: FleetSpec): unknown {
  const targets: Array<[string, number]> = [...PLATFORM_SERVICES.map((s): [string, number] => [s, fleet.spec.services[s].port ?? PLATFORM_TRAITS[s].port]), ['agent-worker', WORKER_PORT]];
  return {
    global: { scrape_interval: fleet.spec.monitoring.scrapeInterval, evaluation_interval: fleet.spec.monitoring.scrapeInterval },
    rule_files: ['rules.yml'],
    scrape_configs: [
      { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
      ...targets.map(([name, port]) => ({
        job_name: name,
        metrics_path: '/metrics',
        dns_sd_configs: [{ names: [name], type: 'A', port, refresh_interval: '30s' }],
      })),
    ],
  };
}

export function composeRules(fleet: FleetSpec): unknown {
  return { groups: alertRuleGroups(fleet) };
}
