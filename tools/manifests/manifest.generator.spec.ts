/**
 * Golden files: deploy/generated/ is the committed output for deploy/fleet.yaml. Regenerating
 * must reproduce it byte for byte (run `npm run manifests -- deploy/fleet.yaml --out
 * deploy/generated` after an intended change, and review the diff).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseFleetSpec } from './fleet-spec.loader';
import { generateManifests } from './manifest.generator';
import { listGenerated, writeManifests } from './manifest.writer';

const ROOT = join(__dirname, '../..');
const GOLDEN = join(ROOT, 'deploy/generated');
const spec = () => parseFleetSpec(readFileSync(join(ROOT, 'deploy/fleet.yaml'), 'utf8'));
const REGENERATE = 'regenerate with: npm run manifests -- deploy/fleet.yaml --out deploy/generated';

const docsOf = (content: string) => parseAllDocuments(content).map((d) => d.toJS() as Record<string, any>);

describe('manifest generator', () => {
  const files = generateManifests(spec());

  it('reproduces the committed golden files byte for byte, and nothing else', () => {
    expect(listGenerated(GOLDEN)).toEqual(files.map((f) => f.path));
    for (const f of files) {
      const golden = readFileSync(join(GOLDEN, f.path), 'utf8');
      if (golden !== f.content) throw new Error(`${f.path} differs from the generator output; ${REGENERATE}`);
    }
  });

  it('is deterministic', () => {
    expect(generateManifests(spec())).toEqual(files);
  });

  it('hardens every Deployment and probes the health endpoints', () => {
    const deployments = docsOf(files.find((f) => f.path.endsWith('deployments.yaml'))!.content);
    expect(deployments.map((d) => d.metadata.name)).toEqual(['gateway', 'auth', 'tenancy', 'metrics-collector', 'alerting', 'recovery', 'agent-worker-general', 'agent-worker-chaos']);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(c.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    }
    const chaos = deployments.find((d) => d.metadata.name === 'agent-worker-chaos')!.spec.template.spec.containers[0].env;
    expect(chaos).toEqual(expect.arrayContaining([{ name: 'WORKER_AGENTS', value: 'sleep,flaky' }, { name: 'WORKER_TEST_AGENTS', value: 'true' }]));
    const auth = deployments.find((d) => d.metadata.name === 'auth')!.spec.template.spec.containers[0].env;
    expect(auth).toContainEqual({ name: 'SB_BOOTSTRAP_ADMIN_KEY', valueFrom: { secretKeyRef: { name: 'switchboard-auth', key: 'bootstrap-admin-key' } } });
    // The agent key: auth's bootstrap agent key, and what every pool's workers register with (one Secret, never a literal).
    const agentKey = { secretKeyRef: { name: 'switchboard-agent', key: 'agent-key' } };
    expect(auth).toContainEqual({ name: 'SB_BOOTSTRAP_AGENT_KEY', valueFrom: agentKey });
    for (const pool of ['agent-worker-general', 'agent-worker-chaos']) {
      expect(deployments.find((d) => d.metadata.name === pool)!.spec.template.spec.containers[0].env).toContainEqual({ name: 'SB_AGENT_KEY', valueFrom: agentKey });
    }
    expect(JSON.stringify(deployments)).not.toMatch(/"name":"SB_(AGENT_KEY|BOOTSTRAP_AGENT_KEY)","value"/);
  });

  it('scales agent pools on the lag of each JetStream consumer they serve, and platform services with HPAs', () => {
    const scaled = docsOf(files.find((f) => f.path.endsWith('scaledobjects.yaml'))!.content);
    const general = scaled.find((s) => s.metadata.name === 'agent-worker-general')!;
    expect(general.spec.triggers.map((t: any) => t.metadata.consumer)).toEqual([
      'SB_echo_high', 'SB_echo_normal', 'SB_echo_low', 'SB_code_analysis_high', 'SB_code_analysis_normal', 'SB_code_analysis_low',
    ]);
    expect(general.spec.triggers[0]).toMatchObject({ type: 'nats-jetstream', metadata: { stream: 'SB_TASKS', lagThreshold: '20' } });
    const hpas = docsOf(files.find((f) => f.path.endsWith('horizontalpodautoscalers.yaml'))!.content);
    expect(hpas.map((h) => h.metadata.name)).toEqual(['gateway', 'auth', 'tenancy']);
  });

  it('writes NetworkPolicy rules in wire form (from, not the client model field _from)', () => {
    const policies = files.find((f) => f.path.endsWith('networkpolicies.yaml'))!.content;
    expect(policies).not.toContain('_from');
    const gateway = docsOf(policies).find((p) => p.metadata.name === 'gateway')!;
    expect(gateway.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    const auth = docsOf(policies).find((p) => p.metadata.name === 'auth')!;
    const egressNamespaces = auth.spec.egress.map((e: any) => e.to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
    expect(egressNamespaces).toEqual(['kube-system', 'nats', 'istio-system']); // no Redis for auth
  });

  it('leaves out the mesh objects without Istio, and a disabled pool entirely', () => {
    const s = spec();
    s.spec.mesh.istio = false;
    s.spec.agentPools[1].enabled = false;
    const out = generateManifests(s);
    expect(out.map((f) => f.path).filter((p) => /virtualservices|destinationrules|peerauthentication/.test(p))).toEqual([]);
    expect(out.map((f) => f.content).join('')).not.toContain('agent-worker-chaos');
  });

  it('writes into a directory and removes files it no longer generates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-manifests-'));
    try {
      writeManifests(dir, files);
      writeFileSync(join(dir, 'kubernetes/99-stale.yaml'), 'x');
      writeFileSync(join(dir, 'README.md'), 'kept');
      const { removed } = writeManifests(dir, files);
      expect(removed).toEqual(['kubernetes/99-stale.yaml']);
      expect(listGenerated(dir)).toEqual(files.map((f) => f.path));
      expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('kept');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
