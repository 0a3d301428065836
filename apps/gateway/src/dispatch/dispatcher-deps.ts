/** What the dispatcher works with (ports), wired in dispatch.providers.ts. */
import type { Bus, RetryPolicy, SecurityEventInput } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import type { AgentOutcomeSink, BreakerGate, TaskAnnouncer, TaskQueue, TaskStore, TenantSlots } from '@sb/tasks';
import type { TaskSource } from './task-source';

export interface DispatcherDeps {
  bus: Bus;
  store: TaskStore;
  queue: TaskQueue;
  announcer: TaskAnnouncer;
  source: TaskSource;
  retry: RetryPolicy;
  /** How long a lease lasts without a keep-alive (the queue consumers' ack wait). */
  leaseMs: number;
  /** A first run's running record is written after this long (RunDeps.recordRunningAfterMs); 0 or absent: before the agent gets it. */
  recordRunningAfterMs?: number;
  /** This dispatcher's instance id: where the verbs on its leases go. */
  instanceId: string;
  /** Capabilities an agent registered (undefined: not registered, nothing to take). */
  capabilitiesOf: (agentId: string) => Promise<readonly string[] | undefined>;
  /** Whether `session` is the agent's current one (its registration's). */
  sessionMatches: (agentId: string, session: string | undefined) => Promise<boolean>;
  /** When the agent last registered (the collector's clock, ms; 0 unknown): a registration after its down makes it takeable again. */
  registeredAt: (agentId: string) => number;
  securityEvent: (e: SecurityEventInput) => void;
  logger: AppLogger;
  /** Tenancy's concurrent-task slots; absent = not enforced. */
  slots?: Pick<TenantSlots, 'tryAcquire' | 'renew' | 'release' | 'renewEveryMs'>;
  /** The agents' circuit breakers (following the resilience bucket); absent = not gated. */
  gate?: Pick<BreakerGate, 'allow' | 'took' | 'gaveBack'>;
  /** Attempt outcomes for the breakers; absent = not reported. */
  outcomes?: AgentOutcomeSink;
  /** At most this many tasks wait here for their tenant's slot; beyond it, takes stop pulling until some start. */
  maxParked?: number;
  now?: () => number;
}
