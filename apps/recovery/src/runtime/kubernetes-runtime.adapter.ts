/**
 * Kubernetes runtime adapter: restart = delete the agent's pod (its Deployment's ReplicaSet
 * recreates it), replace = delete with no grace period, scale = set the Deployment's replicas
 * through its scale subresource. The pod is named by the agent's `pod` label, else its host
 * (a pod's hostname is its name); the namespace by its `namespace` label, else the default.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { AgentRef, RuntimeAdapter, RuntimeResult } from './runtime-adapter';

export class KubernetesRuntimeAdapter implements RuntimeAdapter {
  readonly name = 'kubernetes';
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  /** In-cluster credentials when running in a pod, else KUBECONFIG / ~/.kube/config. */
  static fromDefault(namespace: string): KubernetesRuntimeAdapter {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesRuntimeAdapter(kc, namespace);
  }

  restart(agent: AgentRef): Promise<RuntimeResult> {
    return this.deletePod(agent);
  }

  replace(agent: AgentRef): Promise<RuntimeResult> {
    return this.deletePod(agent, 0);
  }

  async scale(pool: string, replicas: number): Promise<RuntimeResult> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`replicas must be a non-negative integer, got ${replicas}`);
    const [namespace, name] = pool.includes('/') ? pool.split('/', 2) : [this.namespace, pool];
    const scale = await this.apps.readNamespacedDeploymentScale({ name, namespace });
    await this.apps.replaceNamespacedDeploymentScale({ name, namespace, body: { ...scale, spec: { replicas } } });
    return { action: `scaled deployment ${namespace}/${name} to ${replicas}` };
  }

  private async deletePod(agent: AgentRef, gracePeriodSeconds?: number): Promise<RuntimeResult> {
    const name = agent.labels.pod ?? agent.host;
    const namespace = agent.labels.namespace ?? this.namespace;
    if (!name || name === 'unknown') throw new Error(`agent ${agent.agentId}: no pod name (set its "pod" label or run it with the pod name as hostname)`);
    try {
      await this.core.deleteNamespacedPod({ name, namespace, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
      return { action: `deleted pod ${namespace}/${name}` };
    } catch (e) {
      if ((e as { code?: number }).code === 404) return { action: `pod ${namespace}/${name} was already gone`, alreadyGone: true };
      throw e;
    }
  }
}
