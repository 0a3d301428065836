/** The Kubernetes adapter against a local HTTP server that records the API calls it receives. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntimeAdapter } from './kubernetes-runtime.adapter';

interface Call {
  method: string;
  path: string;
  body: unknown;
}

describe('KubernetesRuntimeAdapter', () => {
  let server: Server;
  let calls: Call[];
  let adapter: KubernetesRuntimeAdapter;
  let replicas = 3;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let raw = '';
      for await (const c of req) raw += c;
      const call = { method: req.method!, path: req.url!, body: raw ? JSON.parse(raw) : undefined };
      calls.push(call);
      res.setHeader('content-type', 'application/json');
      if (req.method === 'DELETE' && req.url!.includes('/pods/gone-pod')) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      }
      if (req.method === 'DELETE') return res.end(JSON.stringify({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x' } }));
      if (req.url!.endsWith('/scale')) {
        if (req.method === 'PUT') replicas = (call.body as { spec: { replicas: number } }).spec.replicas;
        return res.end(JSON.stringify({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'agents', namespace: 'fleet', resourceVersion: '7' }, spec: { replicas }, status: { replicas } }));
      }
      res.statusCode = 500;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'c', cluster: 'test', user: 'u' }],
      currentContext: 'c',
    });
    adapter = new KubernetesRuntimeAdapter(kc, 'fleet');
  });
  beforeEach(() => (calls = []));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('restarts an agent by deleting its pod (pod label, else host) in its namespace', async () => {
    expect(await adapter.restart({ agentId: 'a1', host: 'worker-7d9f-abcde', labels: {} })).toEqual({ action: 'deleted pod fleet/worker-7d9f-abcde' });
    await adapter.restart({ agentId: 'a2', host: 'ignored', labels: { pod: 'worker-xyz', namespace: 'other' } });
    expect(calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual(['DELETE /api/v1/namespaces/fleet/pods/worker-7d9f-abcde', 'DELETE /api/v1/namespaces/other/pods/worker-xyz']);
  });

  it('replaces without a grace period, and treats a pod that is already gone as done', async () => {
    await adapter.replace({ agentId: 'a1', host: 'worker-1', labels: {} });
    expect(calls[0].path).toContain('gracePeriodSeconds=0');
    expect(await adapter.restart({ agentId: 'a3', host: 'gone-pod', labels: {} })).toMatchObject({ alreadyGone: true });
  });

  it('refuses an agent with no pod name instead of deleting something else', async () => {
    await expect(adapter.restart({ agentId: 'a4', host: 'unknown', labels: {} })).rejects.toThrow(/no pod name/);
    expect(calls).toHaveLength(0);
  });

  it('scales a deployment through its scale subresource', async () => {
    expect(await adapter.scale('agents', 5)).toEqual({ action: 'scaled deployment fleet/agents to 5' });
    expect(calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual(['GET /apis/apps/v1/namespaces/fleet/deployments/agents/scale', 'PUT /apis/apps/v1/namespaces/fleet/deployments/agents/scale']);
    expect(calls[1].body).toMatchObject({ spec: { replicas: 5 } });
    expect(replicas).toBe(5);
    await expect(adapter.scale('agents', -1)).rejects.toThrow(RangeError);
  });
});
