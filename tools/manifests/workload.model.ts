/**
 * One normalised view of everything that runs a Switchboard image: platform services and agent
 * pools. The builders read only this, so both kinds get the same Deployment, Service, probes and
 * hardening.
 */
import { Durables, names } from '@sb/contracts';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { AgentPoolSpec, FleetSpec, PlatformServiceName, PlatformServiceSpec, ResourcesSpec } from './fleet-spec.schema';
import { PLATFORM_SERVICES } from './fleet-spec.schema';
import { natsEnv, natsSecretName } from './nats-credentials';
import { PART_OF, PLATFORM_TRAITS, TEST_ONLY_AGENTS, WORKER_PORT, workerName } from './platform-catalog';

export interface Workload {
  name: string;
  /** The SERVICE build arg / dist path: `gateway`, ..., `agent-worker`. */
  service: string;
  kind: 'platform' | 'agent-pool';
  port: number;
  /** Where health and /metrics are: `port`, or a port of their own (OPS_PORT, the gateway's) that callers never reach. */
  opsPort: number;
  replicas: number;
  image: string;
  pullPolicy: string;
  resources: ResourcesSpec;
  env: V1EnvVar[];
  /** The Secret holding its NATS credentials (`sb nats init` output), mounted read-only. */
  natsSecret: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  redis: boolean;
  public: boolean;
  /** Egress to the internet for notification webhooks (alerting). */
  webhooks: boolean;
  /** Talks to the Kubernetes API (recovery with the kubernetes runtime adapter): token, Role, egress. */
  kubernetesApi: boolean;
  /** Prometheus scrape paths: /metrics (on `opsPort`), plus /metrics/fleet for the collector (on `port`). */
  metricsPaths: string[];
  spec: PlatformServiceSpec | AgentPoolSpec;
  /** Agent pools: the JetStream consumers whose lag drives scaling (`scalesAgentPool` in libs/contracts topology.ts). */
  consumers: string[];
}

function baseEnv(fleet: FleetSpec, port: number, redis: boolean, jsReplicas: boolean, opsPort = port): V1EnvVar[] {
  const s = fleet.spec;
  const out: V1EnvVar[] = [
    { name: 'NATS_URL', value: s.nats.url },
    ...(redis ? [{ name: 'REDIS_URL', value: s.redis.url }] : []),
    { name: 'SB_PREFIX', value: s.prefix },
    { name: 'HTTP_HOST', value: '0.0.0.0' },
    { name: 'HTTP_PORT', value: String(port) },
    ...(opsPort !== port ? [{ name: 'OPS_PORT', value: String(opsPort) }] : []),
    { name: 'LOG_LEVEL', value: s.logLevel },
    { name: 'SHUTDOWN_GRACE_MS', value: String(s.shutdownGraceSeconds * 1000) },
  ];
  if (jsReplicas) out.push({ name: 'JETSTREAM_REPLICAS', value: String(s.jetstreamReplicas) });
  if (s.tracing) {
    out.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: s.tracing.url }, { name: 'OTEL_TRACES_SAMPLER_ARG', value: String(s.tracing.samplerRatio) });
  }
  return out;
}

/** The named container port health and /metrics are served on: `http`, or `http-ops` where they have a port of their own. */
export const opsPortName = (w: Pick<Workload, 'port' | 'opsPort'>) => (w.opsPort === w.port ? 'http' : 'http-ops');

/** The Deployment names of the fleet's enabled agent pools. */
export const agentPoolNames = (fleet: FleetSpec): string[] => fleet.spec.agentPools.filter((p) => p.enabled).map((p) => workerName(p.name));

/** Variables only one service reads. */
function serviceEnv(fleet: FleetSpec, name: PlatformServiceName): V1EnvVar[] {
  if (name !== 'recovery') return [];
  const adapter = fleet.spec.recoveryRuntime.adapter;
  // The agent pods live in the fleet's namespace; recovery acts only on pods of these pools
  // (found by their labels and owner, see labelsFor); the replica id is the pod name.
  const kubernetes: V1EnvVar[] = [
    { name: 'RECOVERY_K8S_NAMESPACE', value: fleet.metadata.namespace },
    { name: 'RECOVERY_K8S_INSTANCE', value: fleet.metadata.name },
    { name: 'RECOVERY_K8S_AGENT_POOLS', value: agentPoolNames(fleet).join(',') },
  ];
  return [
    { name: 'RECOVERY_RUNTIME', value: adapter },
    ...(adapter === 'kubernetes' ? kubernetes : []),
    { name: 'RECOVERY_REPLICA_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
}

/**
 * Secret references first, so generated values can use them with Kubernetes' `$(NAME)`
 * expansion (e.g. a REDIS_URL of `redis://:$(REDIS_PASSWORD)@host:6379`); then the generated
 * variables; then plain `env` entries. A user entry replaces a generated one of the same name.
 */
function envOf(base: V1EnvVar[], w: PlatformServiceSpec | AgentPoolSpec): V1EnvVar[] {
  const secrets = [...w.secrets]
    .sort((a, b) => a.env.localeCompare(b.env))
    .map((r): V1EnvVar => ({ name: r.env, valueFrom: { secretKeyRef: { name: r.secretName, key: r.key } } }));
  const secretNames = new Set(secrets.map((e) => e.name));
  const plain = Object.keys(w.env)
    .sort()
    .filter((k) => !secretNames.has(k))
    .map((k): V1EnvVar => ({ name: k, value: w.env[k] }));
  return [...secrets, ...merge(base.filter((e) => !secretNames.has(e.name)), plain)];
}

function labelsFor(fleet: FleetSpec, name: string, component: string): { labels: Record<string, string>; selector: Record<string, string> } {
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': fleet.metadata.name };
  return { selector, labels: { ...selector, 'app.kubernetes.io/component': component, 'app.kubernetes.io/part-of': PART_OF, 'app.kubernetes.io/version': fleet.spec.image.tag } };
}

function merge(base: V1EnvVar[], extra: V1EnvVar[]): V1EnvVar[] {
  // A user value overrides a generated one of the same name, in the generated position.
  const byName = new Map(extra.map((e) => [e.name, e]));
  return [...base.map((e) => byName.get(e.name) ?? e), ...extra.filter((e) => !base.some((b) => b.name === e.name))];
}

export function workloadsOf(fleet: FleetSpec): Workload[] {
  const s = fleet.spec;
  const out: Workload[] = [];
  for (const name of PLATFORM_SERVICES) {
    const svc = s.services[name];
    const t = PLATFORM_TRAITS[name];
    const port = svc.port ?? t.port;
    const opsPort = t.opsPort ?? port;
    const img = svc.image ?? s.image;
    out.push({
      name,
      service: name,
      kind: 'platform',
      port,
      opsPort,
      replicas: svc.replicas,
      image: `${img.repository}-${name}:${img.tag}`,
      pullPolicy: img.pullPolicy,
      resources: svc.resources ?? s.defaultResources,
      env: envOf([...baseEnv(fleet, port, t.redis, t.jetstreamReplicas, opsPort), ...natsEnv(name, svc), ...serviceEnv(fleet, name)], svc),
      natsSecret: natsSecretName(fleet, name),
      ...labelsFor(fleet, name, 'platform'),
      redis: t.redis,
      public: svc.public ?? t.public,
      webhooks: t.webhooks,
      kubernetesApi: t.kubernetesApi && s.recoveryRuntime.adapter === 'kubernetes',
      metricsPaths: ['/metrics', ...t.extraMetricsPaths],
      spec: svc,
      consumers: [],
    });
  }
  const n = names(s.prefix);
  for (const pool of s.agentPools.filter((p) => p.enabled)) {
    const name = workerName(pool.name);
    const img = pool.image ?? s.image;
    const env = [...baseEnv(fleet, WORKER_PORT, false, true), ...natsEnv('agent-worker', pool)];
    env.push(
      // The agent id is the pod name: recovery finds a down agent's pod by it through the Kubernetes API.
      { name: 'WORKER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'WORKER_AGENTS', value: pool.capabilities.join(',') },
      { name: 'WORKER_TEST_AGENTS', value: String(pool.capabilities.some((c) => TEST_ONLY_AGENTS.has(c))) },
      { name: 'WORKER_CONCURRENCY', value: String(pool.concurrency) },
      // Registration labels: `pool` for the fleet views; `podUid` ($(POD_UID), expanded by
      // Kubernetes), which recovery requires to match the pod it found before deleting it (an
      // agent naming another pod does not know that pod's uid). Recovery takes pod and pool from
      // the Kubernetes API, never from these labels.
      { name: 'WORKER_LABELS', value: `pool=${name},podUid=$(POD_UID)` },
    );
    out.push({
      name,
      service: 'agent-worker',
      kind: 'agent-pool',
      port: WORKER_PORT,
      opsPort: WORKER_PORT,
      replicas: pool.replicas,
      image: `${img.repository}-agent-worker:${img.tag}`,
      pullPolicy: img.pullPolicy,
      resources: pool.resources ?? s.defaultResources,
      env: envOf(env, pool),
      natsSecret: natsSecretName(fleet, 'agent-worker'),
      ...labelsFor(fleet, name, 'agent-pool'),
      redis: false,
      public: false,
      webhooks: false,
      kubernetesApi: false,
      metricsPaths: ['/metrics'],
      spec: pool,
      consumers: Durables.taskQueue.scalesAgentPool(pool.capabilities).map((p) => Durables.taskQueue.durable(n, p)),
    });
  }
  return out;
}

export const hostOf = (fleet: FleetSpec, w: Workload) => `${w.name}.${fleet.metadata.namespace}.svc.cluster.local`;
