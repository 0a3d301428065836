/**
 * KEDA ScaledObject per agent pool: the JetStream consumer lag of every capability × priority
 * the pool hosts is the scaling signal (queued work, not CPU, says when agents are short).
 * KEDA owns the pool's HPA, so agent pools get no HorizontalPodAutoscaler of their own.
 */
import { Durables, names, Streams } from '@sb/contracts';
import type { AgentPoolSpec, FleetSpec } from './fleet-spec.schema';
import type { KedaScaledObject } from './crd.types';
import type { Workload } from './workload.model';

export function scaledObjectOf(fleet: FleetSpec, w: Workload): KedaScaledObject | undefined {
  if (w.kind !== 'agent-pool') return undefined;
  const pool = w.spec as AgentPoolSpec;
  const scaling = pool.scaling ?? { minReplicas: pool.replicas, maxReplicas: Math.max(pool.replicas, 1), lagThreshold: 10, activationLagThreshold: 0, pollingInterval: 15, cooldownPeriod: 300 };
  const stream = Streams[Durables.taskQueue.stream].name(names(fleet.spec.prefix));
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: w.name, namespace: fleet.metadata.namespace, labels: w.labels },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name },
      minReplicaCount: scaling.minReplicas,
      maxReplicaCount: scaling.maxReplicas,
      pollingInterval: scaling.pollingInterval,
      cooldownPeriod: scaling.cooldownPeriod,
      triggers: w.consumers.map((consumer) => ({
        type: 'nats-jetstream' as const,
        metadata: {
          natsServerMonitoringEndpoint: fleet.spec.nats.monitoringEndpoint,
          account: '$G',
          stream,
          consumer,
          lagThreshold: String(scaling.lagThreshold),
          activationLagThreshold: String(scaling.activationLagThreshold),
          useHttps: 'false',
        },
      })),
    },
  };
}
