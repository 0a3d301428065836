/**
 * The Kubernetes adapter against a local HTTP server playing the Kubernetes API: it holds a few
 * pods (an agent pool's, the gateway's, look-alikes), answers list/delete/patch as the API server
 * does, and records every call, so the tests see exactly what would have been deleted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubernetesRuntimeAdapter } from './kubernetes-runtime.adapter';
import { type AgentRef, RuntimeRefusedError } from './runtime-adapter';

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

const NS = 'fleet';
const scope = { namespace: NS, instance: 'switchboard', pools: ['agent-worker-general', 'agent-worker-chaos'] };

function pod(name: string, uid: string, labels: Record<string, string>, owner?: { kind: string; name: string }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid, labels, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `${owner.name}-uid`, controller: true }] } : {}) },
  };
}
const poolLabels = (pool: string, hash: string) => ({
  'app.kubernetes.io/name': pool,
  'app.kubernetes.io/instance': 'switchboard',
  'app.kubernetes.io/component': 'agent-pool',
  'pod-template-hash': hash,
});
const PODS: V1Pod[] = [
  pod('agent-worker-general-7d9f-abcde', 'uid-w1', poolLabels('agent-worker-general', '7d9f'), { kind: 'ReplicaSet', name: 'agent-worker-general-7d9f' }),
  pod('agent-worker-general-7d9f-fghij', 'uid-w2', poolLabels('agent-worker-general', '7d9f'), { kind: 'ReplicaSet', name: 'agent-worker-general-7d9f' }),
  pod(
    'gateway-5c6b-qwert',
    'uid-gw',
    { 'app.kubernetes.io/name': 'gateway', 'app.kubernetes.io/instance': 'switchboard', 'app.kubernetes.io/component': 'platform', 'pod-template-hash': '5c6b' },
    { kind: 'ReplicaSet', name: 'gateway-5c6b' },
  ),
  // Labelled like a pool's pod, but nobody's: a bare pod.
  pod('agent-worker-general-bare', 'uid-bare', poolLabels('agent-worker-general', '7d9f')),
  // Labelled like a pool's pod, controlled by some other ReplicaSet.
  pod('agent-worker-general-7d9f-other', 'uid-other', poolLabels('agent-worker-general', '7d9f'), { kind: 'ReplicaSet', name: 'something-else-7d9f' }),
  // A pool the fleet spec does not declare.
  pod('agent-worker-extra-1a2b-zzzzz', 'uid-extra', poolLabels('agent-worker-extra', '1a2b'), { kind: 'ReplicaSet', name: 'agent-worker-extra-1a2b' }),
];

/** The label selector forms the adapter uses: `k=v` and `k in (a,b)`. */
function matches(labels: Record<string, string>, selector: string): boolean {
  for (const term of selector.match(/[^,(]+(\([^)]*\))?/g) ?? []) {
    const inSet = /^\s*(\S+)\s+in\s+\(([^)]*)\)\s*$/.exec(term);
    if (inSet) {
      if (!inSet[2].split(',').includes(labels[inSet[1]])) return false;
      continue;
    }
    const [k, v] = term.split('=');
    if (labels[k] !== v) return false;
  }
  return true;
}

describe('KubernetesRuntimeAdapter', () => {
  let server: Server;
  let calls: Call[];
  let adapter: KubernetesRuntimeAdapter;
  let kc: KubeConfig;
  /** Answer lists with every pod, whatever the selectors: the adapter must still check each pod itself. */
  let ignoreSelectors = false;
  let deleteStatus = 200;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let raw = '';
      for await (const c of req) raw += c;
      const url = new URL(req.url!, 'http://x');
      const call: Call = { method: req.method!, path: url.pathname, query: url.searchParams, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
      calls.push(call);
      res.setHeader('content-type', 'application/json');
      const status = (code: number, reason: string) => {
        res.statusCode = code;
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code }));
      };
      if (req.method === 'GET' && url.pathname === `/api/v1/namespaces/${NS}/pods`) {
        const field = url.searchParams.get('fieldSelector') ?? '';
        const byName = field.startsWith('metadata.name=') ? field.slice('metadata.name='.length) : undefined;
        const items = ignoreSelectors ? PODS : PODS.filter((p) => (!byName || p.metadata!.name === byName) && matches(p.metadata!.labels ?? {}, url.searchParams.get('labelSelector') ?? ''));
        return res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }));
      }
      if (req.method === 'DELETE') {
        if (deleteStatus === 404) return status(404, 'NotFound');
        if (deleteStatus === 409) return status(409, 'Conflict');
        return res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: url.pathname.split('/').pop() } }));
      }
      if (req.method === 'PATCH' && url.pathname.endsWith('/scale')) {
        const replicas = (call.body as { spec: { replicas: number } }).spec.replicas;
        return res.end(JSON.stringify({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'x', namespace: NS }, spec: { replicas }, status: { replicas } }));
      }
      status(404, 'NotFound');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'c', cluster: 'test', user: 'u' }],
      currentContext: 'c',
    });
    adapter = new KubernetesRuntimeAdapter(kc, scope);
  });
  beforeEach(() => {
    calls = [];
    ignoreSelectors = false;
    deleteStatus = 200;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const agent = (agentId: string, labels: Record<string, string> = {}, host = agentId): AgentRef => ({ agentId, host, labels });
  const deletes = () => calls.filter((c) => c.method === 'DELETE');
  const refused = (a: AgentRef) => expect(adapter.locate(a)).rejects.toBeInstanceOf(RuntimeRefusedError);

  it('finds the agent’s pod through the API by the pools’ labels and deletes that pod, with its uid as precondition', async () => {
    // The registration's own pool, pod and namespace labels play no part.
    const target = await adapter.locate(agent('agent-worker-general-7d9f-abcde', { podUid: 'uid-w1', pool: 'fresh-pool-42', pod: 'gateway-5c6b-qwert', namespace: 'kube-system' }, 'gateway-5c6b-qwert'));
    expect(target).toEqual({ agentId: 'agent-worker-general-7d9f-abcde', pool: 'agent-worker-general', name: 'agent-worker-general-7d9f-abcde', uid: 'uid-w1' });
    expect(calls).toHaveLength(1);
    expect(calls[0].query.get('fieldSelector')).toBe('metadata.name=agent-worker-general-7d9f-abcde');
    expect(calls[0].query.get('labelSelector')).toBe(
      'app.kubernetes.io/component=agent-pool,app.kubernetes.io/instance=switchboard,app.kubernetes.io/name in (agent-worker-general,agent-worker-chaos)',
    );

    expect(await adapter.restart(target)).toEqual({ action: 'deleted pod fleet/agent-worker-general-7d9f-abcde' });
    expect(deletes().map((c) => [c.path, c.body])).toEqual([['/api/v1/namespaces/fleet/pods/agent-worker-general-7d9f-abcde', { preconditions: { uid: 'uid-w1' } }]]);
  });

  it('an agent naming the gateway’s pod gets nothing deleted', async () => {
    // As its pod label and host (what the adapter used to trust), and as its agent id.
    await refused(agent('evil-agent', { pod: 'gateway-5c6b-qwert', pool: 'p1', podUid: 'uid-gw' }, 'gateway-5c6b-qwert'));
    await refused(agent('gateway-5c6b-qwert', { podUid: 'uid-gw' }));
    // Even from an API that ignored the selectors, the pod's own labels and owner are checked.
    ignoreSelectors = true;
    await refused(agent('gateway-5c6b-qwert', { podUid: 'uid-gw' }));
    expect(deletes()).toEqual([]);
  });

  it('an agent naming another worker’s pod gets nothing deleted: it does not know that pod’s uid', async () => {
    await refused(agent('agent-worker-general-7d9f-fghij', { podUid: 'uid-w1' }));
    await refused(agent('agent-worker-general-7d9f-fghij'));
    expect(deletes()).toEqual([]);
  });

  it('refuses look-alike pods: not controlled by the pool’s ReplicaSet, or of a pool the fleet spec does not declare', async () => {
    ignoreSelectors = true;
    await expect(adapter.locate(agent('agent-worker-general-bare', { podUid: 'uid-bare' }))).rejects.toThrow(/not controlled by a ReplicaSet of the Deployment agent-worker-general/);
    await expect(adapter.locate(agent('agent-worker-general-7d9f-other', { podUid: 'uid-other' }))).rejects.toThrow(/not controlled by a ReplicaSet/);
    await expect(adapter.locate(agent('agent-worker-extra-1a2b-zzzzz', { podUid: 'uid-extra' }))).rejects.toThrow(/not in an agent pool of the fleet/);
    ignoreSelectors = false;
    await expect(adapter.locate(agent('agent-worker-extra-1a2b-zzzzz', { podUid: 'uid-extra' }))).rejects.toThrow(/no pod fleet\/agent-worker-extra-1a2b-zzzzz/);
    expect(deletes()).toEqual([]);
  });

  it('refuses an agent id that is no pod name without asking the API (nor putting it in a selector)', async () => {
    for (const id of ['Worker_1', 'a,metadata.namespace=kube-system', '', 'x'.repeat(64)]) await refused(agent(id));
    expect(calls).toEqual([]);
  });

  it('acts only on a located target; replaces without a grace period; a pod gone or replaced meanwhile counts as done', async () => {
    await expect(adapter.restart({ agentId: 'a', pool: 'agent-worker-general', name: 'gateway-5c6b-qwert' })).rejects.toBeInstanceOf(RuntimeRefusedError);
    expect(calls).toEqual([]);
    const target = await adapter.locate(agent('agent-worker-general-7d9f-abcde', { podUid: 'uid-w1' }));
    await adapter.replace(target);
    expect(deletes()[0].query.get('gracePeriodSeconds')).toBe('0');
    expect(deletes()[0].body).toEqual({ preconditions: { uid: 'uid-w1' }, gracePeriodSeconds: 0 });
    deleteStatus = 404;
    expect(await adapter.restart(target)).toMatchObject({ alreadyGone: true });
    deleteStatus = 409;
    expect(await adapter.restart(target)).toMatchObject({ alreadyGone: true, action: expect.stringContaining('replaced meanwhile') });
  });

  it('scales only a declared pool, through a merge patch of its Deployment’s scale subresource', async () => {
    expect(await adapter.scale('agent-worker-general', 5)).toEqual({ action: 'scaled deployment fleet/agent-worker-general to 5' });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['PATCH /apis/apps/v1/namespaces/fleet/deployments/agent-worker-general/scale']);
    expect(calls[0].headers['content-type']).toBe('application/merge-patch+json');
    expect(calls[0].body).toEqual({ spec: { replicas: 5 } });
    await expect(adapter.scale('gateway', 0)).rejects.toBeInstanceOf(RuntimeRefusedError);
    await expect(adapter.scale('agent-worker-general', -1)).rejects.toThrow(RangeError);
    expect(calls).toHaveLength(1);
  });

  it('will not start without the fleet spec’s pools', () => {
    expect(() => new KubernetesRuntimeAdapter(kc, { ...scope, pools: [] })).toThrow(/RECOVERY_K8S_AGENT_POOLS/);
  });
});
