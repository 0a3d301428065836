/**
 * The fleet spec (`fleet.yaml`): which platform services and agent pools run, with what image,
 * resources, scaling, routing and secrets. Strict objects: an unknown or misspelt field is an
 * error naming its path, never silently ignored.
 */
import { CAPABILITY_PATTERN } from '@sb/contracts';
import { z } from 'zod';

export const PLATFORM_SERVICES = ['gateway', 'auth', 'tenancy', 'metrics-collector', 'alerting', 'recovery'] as const;
export type PlatformServiceName = (typeof PLATFORM_SERVICES)[number];

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Kubernetes quantities: `100m`, `0.5`, `256Mi`, `1G`. */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
/** Istio/Envoy durations: `500ms`, `10s`, `1m`. */
const DURATION = /^[0-9]+(ms|s|m|h)$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const quantity = z.string().regex(QUANTITY, 'expected a Kubernetes quantity such as 100m, 0.5, 256Mi');
const duration = z.string().regex(DURATION, 'expected a duration such as 500ms, 10s, 1m');
const dnsLabel = z.string().regex(DNS_LABEL, 'expected a DNS label: lowercase letters, digits and -, at most 63');

const resourceList = z.strictObject({ cpu: quantity, memory: quantity });
const resources = z.strictObject({ requests: resourceList, limits: resourceList });

const image = z.strictObject({
  repository: z.string().min(1),
  tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'expected an image tag (no "latest" pinning is enforced by review)'),
  pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
});

const secretRef = z.strictObject({
  /** The environment variable the service reads. */
  env: z.string().regex(ENV_NAME, 'expected an environment variable name'),
  secretName: dnsLabel,
  key: z.string().min(1),
});

const environment = z
  .record(z.string().regex(ENV_NAME, 'expected an environment variable name'), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .default({});

const routing = z.strictObject({
  timeout: duration.default('15s'),
  retries: z
    .strictObject({ attempts: z.number().int().min(0).max(10), perTryTimeout: duration, retryOn: z.string().default('connect-failure,refused-stream,unavailable,reset,503') })
    .default({ attempts: 2, perTryTimeout: '5s', retryOn: 'connect-failure,refused-stream,unavailable,reset,503' }),
  /** Chaos testing through the mesh; off unless given. */
  fault: z
    .strictObject({
      delay: z.strictObject({ percent: z.number().min(0).max(100), fixedDelay: duration }).optional(),
      abort: z.strictObject({ percent: z.number().min(0).max(100), httpStatus: z.number().int().min(200).max(599) }).optional(),
    })
    .optional(),
});

const loadBalancer = z.strictObject({
  policy: z.enum(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH']).default('LEAST_REQUEST'),
  maxConnections: z.number().int().min(1).default(1024),
  http1MaxPendingRequests: z.number().int().min(1).default(1024),
  maxRequestsPerConnection: z.number().int().min(0).default(0),
  outlierDetection: z
    .strictObject({ consecutive5xxErrors: z.number().int().min(1), interval: duration, baseEjectionTime: duration, maxEjectionPercent: z.number().int().min(0).max(100) })
    .default({ consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 }),
});

const hpaScaling = z
  .strictObject({
    minReplicas: z.number().int().min(1),
    maxReplicas: z.number().int().min(1),
    targetCpuUtilization: z.number().int().min(1).max(100).default(70),
    targetMemoryUtilization: z.number().int().min(1).max(100).optional(),
  })
  .refine((s) => s.maxReplicas >= s.minReplicas, { message: 'maxReplicas must be >= minReplicas', path: ['maxReplicas'] });

const queueScaling = z
  .strictObject({
    /** 0 lets KEDA scale an idle pool to zero; the first queued task wakes it. */
    minReplicas: z.number().int().min(0),
    maxReplicas: z.number().int().min(1),
    /** Pending tasks per replica (per consumer) KEDA aims for. */
    lagThreshold: z.number().int().min(1).default(10),
    activationLagThreshold: z.number().int().min(0).default(0),
    pollingInterval: z.number().int().min(1).default(15),
    cooldownPeriod: z.number().int().min(0).default(300),
  })
  .refine((s) => s.maxReplicas >= s.minReplicas, { message: 'maxReplicas must be >= minReplicas', path: ['maxReplicas'] });

const workloadFields = {
  image: image.optional(),
  resources: resources.optional(),
  env: environment,
  secrets: z.array(secretRef).default([]),
  routing: routing.default({ timeout: '15s', retries: { attempts: 2, perTryTimeout: '5s', retryOn: 'connect-failure,refused-stream,unavailable,reset,503' } }),
  loadBalancer: loadBalancer.default({
    policy: 'LEAST_REQUEST',
    maxConnections: 1024,
    http1MaxPendingRequests: 1024,
    maxRequestsPerConnection: 0,
    outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
  }),
  /** Evictions allowed at once (PodDisruptionBudget). */
  maxUnavailable: z.number().int().min(1).default(1),
};

const platformService = z.strictObject({
  replicas: z.number().int().min(1).default(2),
  port: z.number().int().min(1024).max(65535).optional(),
  scaling: hpaScaling.optional(),
  /** Reachable from outside the namespace (ingress gateway / load balancer). Only the gateway by default. */
  public: z.boolean().optional(),
  ...workloadFields,
});

const agentPool = z.strictObject({
  name: dnsLabel.max(40),
  enabled: z.boolean().default(true),
  capabilities: z.array(z.string().regex(CAPABILITY_PATTERN, 'expected a capability: lowercase letters, digits and -')).min(1),
  concurrency: z.number().int().min(1).max(4096).default(16),
  replicas: z.number().int().min(0).default(1),
  scaling: queueScaling.optional(),
  ...workloadFields,
});

const endpoint = z.strictObject({
  /** What the services get as NATS_URL / REDIS_URL (comma-separated servers allowed for NATS). */
  url: z.string().min(1),
  /** Where the servers run, for the NetworkPolicy egress rules. */
  namespace: dnsLabel,
  podLabels: z.record(z.string(), z.string()).default({}),
  ports: z.array(z.number().int().min(1).max(65535)).min(1),
});

/** IPv4 CIDR such as 10.0.0.0/8 (NetworkPolicy ipBlock). */
const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'expected an IPv4 CIDR such as 10.0.0.0/8');
const portList = z.array(z.number().int().min(1).max(65535)).min(1);
/** Private, carrier-grade NAT and link-local (cloud metadata) ranges: not "the internet". */
export const NON_PUBLIC_CIDRS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];
const ipEgress = (cidrs: string[], except: string[], ports: number[]) =>
  z.strictObject({ cidrs: z.array(cidr).min(1).default(cidrs), except: z.array(cidr).default(except), ports: portList.default(ports) }).default({ cidrs, except, ports });

export const fleetSpecSchema = z.strictObject({
  apiVersion: z.literal('switchboard.dev/v1'),
  kind: z.literal('Fleet'),
  metadata: z.strictObject({ name: dnsLabel, namespace: dnsLabel }),
  spec: z.strictObject({
    prefix: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'expected 1-16 lowercase letters/digits').default('sb'),
    image,
    defaultResources: resources,
    jetstreamReplicas: z.number().int().min(1).max(5).default(1),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    shutdownGraceSeconds: z.number().int().min(1).max(600).default(15),
    nats: endpoint.extend({ url: z.string().regex(/^(nats|tls):\/\//, 'expected nats:// or tls:// URL(s)'), monitoringEndpoint: z.string().min(1) }),
    redis: endpoint.extend({ url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL') }),
    /**
     * OpenTelemetry: every service exports spans over OTLP/HTTP to `url` (OTEL_EXPORTER_OTLP_ENDPOINT)
     * and may reach the collector there (NetworkPolicy egress). Absent: no OTLP export.
     */
    tracing: endpoint
      .extend({
        url: z.string().regex(/^https?:\/\//, 'expected an http:// or https:// URL (OTLP/HTTP base URL)'),
        /** OTEL_TRACES_SAMPLER_ARG: ratio of new traces sampled (parent-based). */
        samplerRatio: z.number().min(0).max(1).default(1),
      })
      .optional(),
    /**
     * How recovery acts on dead agents. `kubernetes`: it deletes their pods and scales pool
     * Deployments (RECOVERY_RUNTIME=kubernetes with the enabled pools in RECOVERY_K8S_AGENT_POOLS,
     * a Role to list/delete pods and patch the pools' deployments/scale, a mounted ServiceAccount
     * token, egress to the API server). `none`: the platform replaces processes.
     */
    recoveryRuntime: z
      .strictObject({
        adapter: z.enum(['kubernetes', 'none']).default('kubernetes'),
        /** Where the Kubernetes API server answers (the `kubernetes` Service's endpoints; often outside the pod network). */
        apiServer: ipEgress(['0.0.0.0/0'], [], [443, 6443]),
      })
      .default({ adapter: 'kubernetes', apiServer: { cidrs: ['0.0.0.0/0'], except: [], ports: [443, 6443] } }),
    /** Where alerting's notification channels may post (webhooks, Slack, PagerDuty): the internet, not the cluster's private ranges. */
    webhookEgress: ipEgress(['0.0.0.0/0'], NON_PUBLIC_CIDRS, [443, 80]),
    mesh: z.strictObject({ istio: z.boolean().default(true), istioNamespace: dnsLabel.default('istio-system') }).default({ istio: true, istioNamespace: 'istio-system' }),
    monitoring: z
      .strictObject({
        namespace: dnsLabel,
        /** Labels the Prometheus Operator selects ServiceMonitors/PrometheusRules by. */
        selectorLabels: z.record(z.string(), z.string()).default({}),
        scrapeInterval: duration.default('15s'),
        alerts: z
          .strictObject({
            errorRatio: z.number().gt(0).lt(1),
            p95LatencySeconds: z.number().positive(),
            /** Share of notification delivery attempts that fail or are retried, per channel type, before a warning. */
            notificationFailureRatio: z.number().gt(0).lt(1).default(0.25),
            memoryBytes: z.number().int().positive(),
          })
          .default({ errorRatio: 0.05, p95LatencySeconds: 1, notificationFailureRatio: 0.25, memoryBytes: 400 * 1024 * 1024 }),
      }),
    ingressNamespaces: z.array(dnsLabel).default([]),
    services: z.strictObject(Object.fromEntries(PLATFORM_SERVICES.map((s) => [s, platformService])) as Record<PlatformServiceName, typeof platformService>),
    agentPools: z.array(agentPool).min(1),
  }),
});

export type FleetSpec = z.output<typeof fleetSpecSchema>;
export type PlatformServiceSpec = z.output<typeof platformService>;
export type AgentPoolSpec = z.output<typeof agentPool>;
export type ResourcesSpec = z.output<typeof resources>;
export type IpEgressSpec = z.output<ReturnType<typeof ipEgress>>;
