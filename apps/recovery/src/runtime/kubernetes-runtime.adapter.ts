/**
 * Kubernetes runtime adapter. An agent's pod is found through the Kubernetes API, never taken
 * from the agent's registration: it is the pod named by the agent id (the generated pools run
 * each worker with its pod name as WORKER_ID) among the pods carrying the labels the generated
 * manifests give agent pools (`app.kubernetes.io/component=agent-pool`, the fleet's `instance`,
 * and as `name` one of the pools the fleet spec declares), controlled by that pool's ReplicaSet
 * (`<deployment>-<pod-template-hash>`), and with the uid the agent registered from (its `podUid`
 * label, set from the downward API: an agent that names another worker's pod does not know that
 * pod's uid). Anything else is refused and nothing is deleted: an agent naming the gateway's pod
 * finds no agent-pool pod. The restart budget is counted per pool as found here.
 *
 * restart = delete that pod with its uid as precondition (its ReplicaSet recreates it), replace =
 * the same with no grace period, scale = patch a declared pool's Deployment scale subresource.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { type AgentRef, type RuntimeAdapter, RuntimeRefusedError, type RuntimeResult, type RuntimeTarget } from './runtime-adapter';

/** Where recovery may act, from the fleet spec (tools/manifests sets these in the recovery Deployment). */
export interface AgentPoolScope {
  namespace: string;
  /** `app.kubernetes.io/instance` of the fleet's workloads: the fleet spec's metadata.name. */
  instance: string;
  /** The agent pools' Deployment names. */
  pools: readonly string[];
}

/** The registration label a generated pool's worker carries: its pod's uid (downward API). */
export const POD_UID_LABEL = 'podUid';
export const AGENT_POOL_COMPONENT = 'agent-pool';
const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  templateHash: 'pod-template-hash',
} as const;
/** What a Deployment names its pods (a DNS label); anything else is no pod of a pool, and unsafe in a field selector. */
const POD_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const statusOf = (e: unknown) => (e as { code?: number }).code;

export class KubernetesRuntimeAdapter implements RuntimeAdapter {
  readonly name = 'kubernetes';
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(
    kc: KubeConfig,
    private readonly scope: AgentPoolScope,
  ) {
    if (scope.pools.length === 0) throw new Error('the Kubernetes runtime adapter needs the fleet spec’s agent pools (RECOVERY_K8S_AGENT_POOLS)');
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
  }

  /** In-cluster credentials when running in a pod, else KUBECONFIG / ~/.kube/config. */
  static fromDefault(scope: AgentPoolScope): KubernetesRuntimeAdapter {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesRuntimeAdapter(kc, scope);
  }

  async locate(agent: AgentRef): Promise<RuntimeTarget> {
    const { namespace, instance, pools } = this.scope;
    const name = agent.agentId;
    if (!POD_NAME.test(name)) throw new RuntimeRefusedError(`agent ${name}: its id is not a pod name, so no pod of an agent pool is it`);
    const list = await this.core.listNamespacedPod({
      namespace,
      fieldSelector: `metadata.name=${name}`,
      labelSelector: `${LABEL.component}=${AGENT_POOL_COMPONENT},${LABEL.instance}=${instance},${LABEL.name} in (${pools.join(',')})`,
    });
    const pod = list.items.find((p) => p.metadata?.name === name);
    if (!pod) throw new RuntimeRefusedError(`no pod ${namespace}/${name} in an agent pool of the fleet`);
    const pool = this.poolOf(pod);
    const uid = pod.metadata?.uid;
    if (!uid || agent.labels[POD_UID_LABEL] !== uid) {
      throw new RuntimeRefusedError(`pod ${namespace}/${name} is not the pod agent ${name} registered from (its ${POD_UID_LABEL} label does not match the pod's uid)`);
    }
    return { agentId: name, pool, name, uid };
  }

  restart(target: RuntimeTarget): Promise<RuntimeResult> {
    return this.deletePod(target);
  }

  replace(target: RuntimeTarget): Promise<RuntimeResult> {
    return this.deletePod(target, 0);
  }

  async scale(pool: string, replicas: number): Promise<RuntimeResult> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`replicas must be a non-negative integer, got ${replicas}`);
    if (!this.scope.pools.includes(pool)) throw new RuntimeRefusedError(`${pool} is not an agent pool of the fleet spec`);
    const { namespace } = this.scope;
    await this.apps.patchNamespacedDeploymentScale({ name: pool, namespace, body: { spec: { replicas } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    return { action: `scaled deployment ${namespace}/${pool} to ${replicas}` };
  }

  /** The pod's pool: a declared one, by its labels and by the ReplicaSet that controls it. */
  private poolOf(pod: V1Pod): string {
    const where = `pod ${this.scope.namespace}/${pod.metadata?.name}`;
    const labels = pod.metadata?.labels ?? {};
    const pool = labels[LABEL.name];
    if (labels[LABEL.component] !== AGENT_POOL_COMPONENT || labels[LABEL.instance] !== this.scope.instance || !pool || !this.scope.pools.includes(pool)) {
      throw new RuntimeRefusedError(`${where} is not in an agent pool of the fleet`);
    }
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
    const hash = labels[LABEL.templateHash];
    if (!owner || owner.kind !== 'ReplicaSet' || !owner.apiVersion.startsWith('apps/') || !hash || owner.name !== `${pool}-${hash}`) {
      throw new RuntimeRefusedError(`${where} is not controlled by a ReplicaSet of the Deployment ${pool}`);
    }
    return pool;
  }

  private async deletePod(t: RuntimeTarget, gracePeriodSeconds?: number): Promise<RuntimeResult> {
    const { namespace } = this.scope;
    // Only what locate() verified: a target without the pod's uid was not found here.
    if (!t.uid) throw new RuntimeRefusedError(`pod ${namespace}/${t.name} was not located through the Kubernetes API`);
    const grace = gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {};
    try {
      await this.core.deleteNamespacedPod({ name: t.name, namespace, ...grace, body: { preconditions: { uid: t.uid }, ...grace } });
      return { action: `deleted pod ${namespace}/${t.name}` };
    } catch (e) {
      if (statusOf(e) === 404) return { action: `pod ${namespace}/${t.name} was already gone`, alreadyGone: true };
      // The uid precondition failed: the pod that was verified is gone, and another took its name.
      if (statusOf(e) === 409) return { action: `pod ${namespace}/${t.name} was replaced meanwhile; the new one was left alone`, alreadyGone: true };
      throw e;
    }
  }
}
