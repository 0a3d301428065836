/** What the generator knows about each Switchboard service: its default port and dependencies. */
import type { PlatformServiceName } from './fleet-spec.schema';

export interface ServiceTraits {
  /** HTTP_PORT default of the service's config.ts (the API for the gateway; health and /metrics unless `opsPort`). */
  port: number;
  /** OPS_PORT of a service that serves health and /metrics on a port of their own (the gateway: never on its public port). */
  opsPort?: number;
  /** Reads REDIS_URL (gateway: rate limits, quotas; tenancy: usage, concurrency slots; metrics-collector: liveness). */
  redis: boolean;
  /** Reads JETSTREAM_REPLICAS (creates streams and KV buckets). */
  jetstreamReplicas: boolean;
  /** Serves outside callers by default. */
  public: boolean;
  /** Posts to receivers outside the cluster (alerting's notification channels). */
  webhooks: boolean;
  /** Talks to the Kubernetes API when the runtime adapter is `kubernetes` (recovery). */
  kubernetesApi: boolean;
  /** Prometheus paths besides /metrics (the collector's fleet exposition of every agent's series). */
  extraMetricsPaths: readonly string[];
}

/** The collector's fleet exposition: every agent's latest series, labelled `agent`. */
export const FLEET_METRICS_PATH = '/metrics/fleet';
/** The Prometheus job of the fleet exposition (compose job name; Kubernetes job label). */
export const FLEET_JOB = 'metrics-collector-fleet';

const plain = { redis: false, public: false, webhooks: false, kubernetesApi: false, extraMetricsPaths: [] } as const;

export const PLATFORM_TRAITS: Readonly<Record<PlatformServiceName, ServiceTraits>> = {
  gateway: { ...plain, port: 8080, opsPort: 8090, redis: true, jetstreamReplicas: true, public: true },
  auth: { ...plain, port: 8081, jetstreamReplicas: true },
  tenancy: { ...plain, port: 8082, redis: true, jetstreamReplicas: true },
  'metrics-collector': { ...plain, port: 8083, redis: true, jetstreamReplicas: true, extraMetricsPaths: [FLEET_METRICS_PATH] },
  alerting: { ...plain, port: 8084, jetstreamReplicas: true, webhooks: true },
  recovery: { ...plain, port: 8085, jetstreamReplicas: true, kubernetesApi: true },
};


export const WORKER_PORT = 8086;
/** Agents that only load with WORKER_TEST_AGENTS=true. */
export const TEST_ONLY_AGENTS: ReadonlySet<string> = new Set(['sleep', 'flaky']);

export const PART_OF = 'switchboard';
export const workerName = (pool: string) => `agent-worker-${pool}`;
