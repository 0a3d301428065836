/** What the generator knows about each Switchboard service: its default port and dependencies. */
import type { PlatformServiceName } from './fleet-spec.schema';

export interface ServiceTraits {
  /** HTTP_PORT default of the service's config.ts (health, /metrics, and the API for the gateway). */
  port: number;
  /** Reads REDIS_URL (gateway: rate limits, quotas; tenancy: usage, concurrency slots). */
  redis: boolean;
  /** Reads JETSTREAM_REPLICAS (creates task/key/tenant streams and buckets). */
  jetstreamReplicas: boolean;
  /** Serves outside callers by default. */
  public: boolean;
}

export const PLATFORM_TRAITS: Readonly<Record<PlatformServiceName, ServiceTraits>> = {
  gateway: { port: 8080, redis: true, jetstreamReplicas: true, public: true },
  auth: { port: 8081, redis: false, jetstreamReplicas: true, public: false },
  tenancy: { port: 8082, redis: true, jetstreamReplicas: true, public: false },
  'metrics-collector': { port: 8083, redis: false, jetstreamReplicas: false, public: false },
  alerting: { port: 8084, redis: false, jetstreamReplicas: false, public: false },
  recovery: { port: 8085, redis: false, jetstreamReplicas: false, public: false },
};

export const WORKER_PORT = 8086;
/** Agents that only load with WORKER_TEST_AGENTS=true. */
export const TEST_ONLY_AGENTS: ReadonlySet<string> = new Set(['sleep', 'flaky']);

export const PART_OF = 'switchboard';
export const workerName = (pool: string) => `agent-worker-${pool}`;
