/**
 * What the generator emits for telemetry, alerting, tracing and recovery: the services' new
 * environment, recovery's Kubernetes runtime adapter (token, Role, egress to the API server),
 * alerting's webhook egress, the collector's fleet exposition as its own scrape job, the OTLP
 * pass-through, and alert rules that do not duplicate Switchboard's own alerts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertRuleGroups } from './alert-rules.builder';
import { allDashboards } from './dashboards.builder';
import { FleetSpecError, parseFleetSpec } from './fleet-spec.loader';
import type { FleetSpec } from './fleet-spec.schema';
import { generateManifests, kubernetesObjects } from './manifest.generator';
import { composePrometheusConfig } from './monitoring.builder';
import { within } from './network-policy.builder';
import { expressionsIn, metricNamesIn } from './promql-metrics';

const EXAMPLE = readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8');
const spec = (change: (doc: any) => void = () => undefined): FleetSpec => {
  const doc = parse(EXAMPLE);
  change(doc);
  return parseFleetSpec(stringify(doc));
};
const objectsOf = (fleet: FleetSpec, kind: string): any[] =>
  kubernetesObjects(fleet)
    .flatMap((f) => f.objects)
    .filter((o) => o.kind === kind);
const named = (objects: any[], name: string) => objects.find((o) => o.metadata.name === name)!;
const envOf = (fleet: FleetSpec, name: string): Array<{ name: string; value?: string; valueFrom?: unknown }> =>
  named(objectsOf(fleet, 'Deployment'), name).spec.template.spec.containers[0].env;
const valueOf = (fleet: FleetSpec, workload: string, variable: string) => envOf(fleet, workload).find((e) => e.name === variable)?.value;
const egressOf = (fleet: FleetSpec, name: string): any[] => named(objectsOf(fleet, 'NetworkPolicy'), name).spec.egress;

describe('services environment', () => {
  const fleet = spec();

  it('gives Redis to the services that read REDIS_URL, now including the collector, with the password reference', () => {
    for (const name of ['gateway', 'tenancy', 'metrics-collector']) {
      expect(valueOf(fleet, name, 'REDIS_URL')).toBe(fleet.spec.redis.url);
      expect(envOf(fleet, name)[0]).toMatchObject({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'switchboard-redis' } } });
    }
    for (const name of ['auth', 'alerting', 'recovery', 'agent-worker-general']) expect(valueOf(fleet, name, 'REDIS_URL')).toBeUndefined();
  });

  it('sets JETSTREAM_REPLICAS on every service (all create streams or buckets now)', () => {
    for (const d of objectsOf(fleet, 'Deployment')) expect(valueOf(fleet, d.metadata.name, 'JETSTREAM_REPLICAS')).toBe('3');
  });

  it('runs each worker as its pod (agent id = pod name) and registers its pod uid, which recovery checks before deleting', () => {
    const env = envOf(fleet, 'agent-worker-general');
    expect(env).toContainEqual({ name: 'WORKER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    expect(env).toContainEqual({ name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } });
    expect(valueOf(fleet, 'agent-worker-general', 'WORKER_LABELS')).toBe('pool=agent-worker-general,podUid=$(POD_UID)');
    // Kubernetes expands $(POD_UID) only from a variable defined earlier in the list.
    expect(env.findIndex((e) => e.name === 'POD_UID')).toBeLessThan(env.findIndex((e) => e.name === 'WORKER_LABELS'));
    // The pool's pods carry the labels recovery selects them by.
    const pod = named(objectsOf(fleet, 'Deployment'), 'agent-worker-general').spec.template.metadata.labels;
    expect(pod).toMatchObject({ 'app.kubernetes.io/name': 'agent-worker-general', 'app.kubernetes.io/instance': 'switchboard', 'app.kubernetes.io/component': 'agent-pool' });
  });

  it('refuses a Redis URL whose $(VAR) a Redis-using service does not define', () => {
    let problems: string[] = [];
    try {
      spec((d) => delete d.spec.services['metrics-collector'].secrets);
    } catch (e) {
      problems = (e as FleetSpecError).problems;
    }
    expect(problems).toEqual([expect.stringMatching(/^spec\.services\.metrics-collector\.secrets: .*\$\(REDIS_PASSWORD\)/)]);
  });

  it('leaves OTLP export off by default and passes the endpoint, sampler and egress through when tracing is set', () => {
    for (const d of objectsOf(fleet, 'Deployment')) expect(valueOf(fleet, d.metadata.name, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBeUndefined();
    const traced = spec((d) => (d.spec.tracing = { url: 'http://otel.observability.svc:4318', namespace: 'observability', podLabels: { app: 'otel' }, ports: [4318], samplerRatio: 0.1 }));
    for (const d of objectsOf(traced, 'Deployment')) {
      expect(valueOf(traced, d.metadata.name, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBe('http://otel.observability.svc:4318');
      expect(valueOf(traced, d.metadata.name, 'OTEL_TRACES_SAMPLER_ARG')).toBe('0.1');
      expect(egressOf(traced, d.metadata.name)).toContainEqual({
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } }, podSelector: { matchLabels: { app: 'otel' } } }],
        ports: [{ port: 4318, protocol: 'TCP' }],
      });
    }
    expect(() => spec((d) => (d.spec.tracing = { url: 'grpc://otel:4317', namespace: 'o', ports: [4317] }))).toThrow(/spec\.tracing\.url: expected an http/);
  });
});

describe('recovery runtime adapter', () => {
  it('runs recovery with the kubernetes adapter in the fleet namespace, and only recovery gets an API token', () => {
    const fleet = spec();
    expect(valueOf(fleet, 'recovery', 'RECOVERY_RUNTIME')).toBe('kubernetes');
    expect(valueOf(fleet, 'recovery', 'RECOVERY_K8S_NAMESPACE')).toBe('switchboard');
    // The pools recovery may act on, and the fleet's instance label: from the spec, never from an agent.
    expect(valueOf(fleet, 'recovery', 'RECOVERY_K8S_INSTANCE')).toBe('switchboard');
    expect(valueOf(fleet, 'recovery', 'RECOVERY_K8S_AGENT_POOLS')).toBe('agent-worker-general,agent-worker-chaos');
    const tokens = (kind: string, get: (o: any) => boolean) => objectsOf(fleet, kind).filter(get).map((o) => o.metadata.name);
    expect(tokens('ServiceAccount', (o) => o.automountServiceAccountToken)).toEqual(['recovery']);
    expect(tokens('Deployment', (o) => o.spec.template.spec.automountServiceAccountToken)).toEqual(['recovery']);
  });

  it('grants exactly what the adapter does: list and delete pods in the namespace, patch the scale of the agent pools only', () => {
    const fleet = spec();
    const [role] = objectsOf(fleet, 'Role');
    expect(role.metadata).toMatchObject({ name: 'recovery', namespace: 'switchboard' });
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] },
      { apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: ['agent-worker-general', 'agent-worker-chaos'], verbs: ['patch'] },
    ]);
    // A disabled pool is neither scaled nor acted on.
    const one = spec((d) => (d.spec.agentPools[1].enabled = false));
    expect(objectsOf(one, 'Role')[0].rules[1].resourceNames).toEqual(['agent-worker-general']);
    expect(valueOf(one, 'recovery', 'RECOVERY_K8S_AGENT_POOLS')).toBe('agent-worker-general');
    expect(objectsOf(fleet, 'RoleBinding')).toEqual([
      expect.objectContaining({ roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'recovery' }, subjects: [{ kind: 'ServiceAccount', name: 'recovery', namespace: 'switchboard' }] }),
    ]);
    expect(objectsOf(fleet, 'ClusterRole')).toEqual([]);
    expect(egressOf(fleet, 'recovery')).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] });
  });

  it('refuses a kubernetes adapter with no enabled pool, and a pool that replaces the identity recovery checks', () => {
    const problems = (change: (d: any) => void) => {
      try {
        spec(change);
        return [];
      } catch (e) {
        return (e as FleetSpecError).problems;
      }
    };
    expect(problems((d) => d.spec.agentPools.forEach((p: any) => (p.enabled = false)))).toEqual([expect.stringMatching(/^spec\.recoveryRuntime\.adapter: kubernetes needs at least one enabled agent pool/)]);
    expect(problems((d) => (d.spec.agentPools[0].env = { WORKER_LABELS: 'zone=a', WORKER_ID: 'w' }))).toEqual([
      expect.stringMatching(/^spec\.agentPools\[0\]\.env\.WORKER_ID: the generator sets it/),
      expect.stringMatching(/^spec\.agentPools\[0\]\.env\.WORKER_LABELS: the generator sets it/),
    ]);
    expect(problems((d) => ((d.spec.recoveryRuntime.adapter = 'none'), (d.spec.agentPools[0].env = { WORKER_LABELS: 'zone=a' })))).toEqual([]);
  });

  it('with adapter none: no Role, no token, no API egress, RECOVERY_RUNTIME=none', () => {
    const fleet = spec((d) => (d.spec.recoveryRuntime.adapter = 'none'));
    expect(valueOf(fleet, 'recovery', 'RECOVERY_RUNTIME')).toBe('none');
    expect(valueOf(fleet, 'recovery', 'RECOVERY_K8S_NAMESPACE')).toBeUndefined();
    expect(valueOf(fleet, 'recovery', 'RECOVERY_K8S_AGENT_POOLS')).toBeUndefined();
    expect(objectsOf(fleet, 'Role')).toEqual([]);
    expect(generateManifests(fleet).map((f) => f.path)).not.toContain('kubernetes/02-rbac.yaml');
    expect(objectsOf(fleet, 'ServiceAccount').some((o) => o.automountServiceAccountToken)).toBe(false);
    expect(JSON.stringify(egressOf(fleet, 'recovery'))).not.toContain('ipBlock');
  });
});

describe('network policies', () => {
  const fleet = spec();
  const targets = (name: string) => egressOf(fleet, name).map((e: any) => e.to[0].namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] ?? e.to[0].ipBlock.cidr);

  it('lets alerting post webhooks to the internet on 443/80 but not to private or metadata ranges', () => {
    const web = egressOf(fleet, 'alerting').find((e: any) => e.to[0].ipBlock);
    expect(web.ports).toEqual([{ port: 443, protocol: 'TCP' }, { port: 80, protocol: 'TCP' }]);
    expect(web.to[0].ipBlock).toEqual({ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'] });
  });

  it('gives each service only its own egress', () => {
    expect(targets('alerting')).toEqual(['kube-system', 'nats', '0.0.0.0/0', 'istio-system']);
    expect(targets('metrics-collector')).toEqual(['kube-system', 'nats', 'redis', 'istio-system']);
    expect(targets('recovery')).toEqual(['kube-system', 'nats', '0.0.0.0/0', 'istio-system']);
    expect(targets('agent-worker-general')).toEqual(['kube-system', 'nats', 'istio-system']);
  });

  it('applies to each ipBlock only the exceptions inside it (Kubernetes rejects others)', () => {
    expect(within('10.1.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(within('10.0.0.0/8', '0.0.0.0/0')).toBe(true);
    expect(within('192.168.0.0/16', '10.0.0.0/8')).toBe(false);
    expect(within('10.0.0.0/8', '10.1.0.0/16')).toBe(false);
    const narrowed = spec((d) => (d.spec.webhookEgress.cidrs = ['10.20.0.0/16', '203.0.113.0/24']));
    const blocks = egressOf(narrowed, 'alerting').find((e: any) => e.to[0].ipBlock).to.map((t: any) => t.ipBlock);
    expect(blocks).toEqual([{ cidr: '10.20.0.0/16' }, { cidr: '203.0.113.0/24' }]);
    expect(() => spec((d) => (d.spec.webhookEgress.cidrs = ['internet']))).toThrow(/spec\.webhookEgress\.cidrs\[0\]: expected an IPv4 CIDR/);
  });
});

describe('monitoring', () => {
  const fleet = spec();

  it('scrapes the collector fleet exposition as its own job, in Kubernetes and compose', () => {
    const monitors = objectsOf(fleet, 'ServiceMonitor');
    expect(monitors.map((m) => [m.metadata.name, m.spec.endpoints[0].path])).toEqual([['switchboard', '/metrics'], ['gateway-ops', '/metrics'], ['metrics-collector-fleet', '/metrics/fleet']]);
    const fleetMonitor = monitors[2];
    expect(fleetMonitor.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'metrics-collector', 'app.kubernetes.io/instance': 'switchboard' });
    expect(fleetMonitor.spec.endpoints[0].relabelings).toEqual([{ action: 'replace', targetLabel: 'job', replacement: 'metrics-collector-fleet' }]);
    const jobs = (composePrometheusConfig(fleet) as any).scrape_configs;
    expect(jobs.find((j: any) => j.job_name === 'metrics-collector-fleet')).toEqual({
      job_name: 'metrics-collector-fleet',
      metrics_path: '/metrics/fleet',
      dns_sd_configs: [{ names: ['metrics-collector'], type: 'A', port: 8083, refresh_interval: '30s' }],
    });
  });

  it("scrapes the gateway's /metrics and probes its health on its ops port, which only Prometheus may reach", () => {
    const [all, gateway] = objectsOf(fleet, 'ServiceMonitor');
    expect(all.spec.selector.matchExpressions).toEqual([{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: ['gateway'] }]);
    expect(gateway.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'gateway', 'app.kubernetes.io/instance': 'switchboard' });
    expect(gateway.spec.endpoints[0]).toMatchObject({ port: 'http-ops', path: '/metrics' });
    const deployment = objectsOf(fleet, 'Deployment').find((d) => d.metadata.name === 'gateway');
    const c = deployment.spec.template.spec.containers[0];
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'http-ops', containerPort: 8090, protocol: 'TCP' }]);
    expect(c.env).toContainEqual({ name: 'OPS_PORT', value: '8090' });
    for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(p.httpGet.port).toBe('http-ops');
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe('8090');
    const ingress = objectsOf(fleet, 'NetworkPolicy').find((n) => n.metadata.name === 'gateway').spec.ingress;
    expect(ingress[0].ports).toEqual([{ port: 8090, protocol: 'TCP' }]);
    expect(JSON.stringify(ingress.slice(1))).not.toContain('8090');
    const jobs = (composePrometheusConfig(fleet) as any).scrape_configs;
    expect(jobs.find((j: any) => j.job_name === 'gateway').dns_sd_configs[0].port).toBe(8090);
    // The other services keep one port for everything.
    const auth = objectsOf(fleet, 'Deployment').find((d) => d.metadata.name === 'auth').spec.template.spec.containers[0];
    expect(auth.readinessProbe.httpGet.port).toBe('http');
  });

  it('pages only for what Switchboard does not page for itself', () => {
    const rules = alertRuleGroups(fleet).flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['SwitchboardAlertingDown', 'SwitchboardMetricsCollectorDown', 'SwitchboardRecoveryLeaderless', 'SwitchboardNotificationsUndelivered', 'SwitchboardNotificationRetries']),
    );
    // Task failures, dead letters, backlog, agents down: Switchboard's default rules and recovery's alerts.
    const read = new Set(rules.flatMap((r) => metricNamesIn(r.expr)));
    for (const covered of ['sb_worker_tasks_total', 'sb_fleet_task_error_ratio', 'sb_fleet_dead_letters', 'sb_fleet_queue_pending', 'sb_breaker_state', 'sb_shed_level']) {
      expect(read.has(covered)).toBe(false);
    }
    // Agent workers are watched by AgentDown, not by a Prometheus "target down" page.
    expect(rules.find((r) => r.alert === 'SwitchboardServiceDown')!.expr).not.toContain('agent-worker');
    expect(rules.find((r) => r.alert === 'SwitchboardAlertingDown')!.expr).toBe('max by (job) (up{job="alerting"}) == 0 or absent(up{job="alerting"})');
  });

  it('has a recovery dashboard, and reads per-agent fleet series without summing collector replicas', () => {
    const dashboards = new Map(allDashboards());
    expect([...dashboards.keys()]).toEqual(['fleet-overview.json', 'task-pipeline.json', 'alerts.json', 'recovery.json', 'service-red.json']);
    const fleetExprs = expressionsIn(dashboards.get('fleet-overview.json')).filter((e) => /sb_agent_/.test(e));
    expect(fleetExprs.length).toBeGreaterThanOrEqual(6);
    for (const e of fleetExprs) expect(e).toMatch(/max by \(agent/);
    const recovery = expressionsIn(dashboards.get('recovery.json')).join('\n');
    for (const m of ['sb_recovery_leader', 'sb_recovery_reclaim_seconds_bucket', 'sb_breaker_state', 'sb_breaker_transitions_total', 'sb_shed_level']) expect(recovery).toContain(m);
  });
});
