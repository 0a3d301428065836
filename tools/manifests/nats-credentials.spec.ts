/**
 * NATS credentials in the generated manifests: every Deployment mounts its own Secret and points
 * NATS_CREDS (and auth its signing secrets and KEK) into it; the committed files name Secrets
 * and never hold a credential.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseFleetSpec } from './fleet-spec.loader';
import type { FleetSpec } from './fleet-spec.schema';
import { generateManifests, kubernetesObjects } from './manifest.generator';

const EXAMPLE = readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8');
const spec = (change: (doc: any) => void = () => undefined): FleetSpec => {
  const doc = parse(EXAMPLE);
  change(doc);
  return parseFleetSpec(stringify(doc));
};
const deployments = (fleet: FleetSpec): any[] =>
  kubernetesObjects(fleet)
    .flatMap((f) => f.objects)
    .filter((o) => o.kind === 'Deployment');
const podOf = (fleet: FleetSpec, name: string) => deployments(fleet).find((d) => d.metadata.name === name)!.spec.template.spec;
const envOf = (fleet: FleetSpec, name: string): Record<string, string | undefined> =>
  Object.fromEntries(podOf(fleet, name).containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]));

describe('NATS credentials in the manifests', () => {
  const SECRET_OF: Record<string, string> = {
    gateway: 'switchboard-nats-gateway',
    auth: 'switchboard-nats-auth',
    tenancy: 'switchboard-nats-tenancy',
    'metrics-collector': 'switchboard-nats-metrics-collector',
    alerting: 'switchboard-nats-alerting',
    recovery: 'switchboard-nats-recovery',
    // Every pool shares the pool agent credential.
    'agent-worker-general': 'switchboard-nats-agent-worker',
    'agent-worker-chaos': 'switchboard-nats-agent-worker',
  };

  it("mounts each workload's own Secret read-only, group-readable only, and points NATS_CREDS into it", () => {
    const fleet = spec();
    expect(deployments(fleet).map((d) => d.metadata.name)).toEqual(Object.keys(SECRET_OF));
    for (const [name, secretName] of Object.entries(SECRET_OF)) {
      const pod = podOf(fleet, name);
      const volume = pod.volumes.find((v: any) => v.secret);
      expect([name, volume]).toEqual([name, { name: 'nats-credentials', secret: { secretName, defaultMode: 0o440 } }]);
      expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'nats-credentials', mountPath: '/etc/switchboard/nats', readOnly: true });
      expect([name, envOf(fleet, name).NATS_CREDS]).toEqual([name, '/etc/switchboard/nats/nats.creds']);
    }
  });

  it("gives auth its signing secrets and the KEK sealing them from its Secret, and no one else", () => {
    const fleet = spec();
    expect(envOf(fleet, 'auth')).toMatchObject({ SB_NATS_AUTH_FILE: '/etc/switchboard/nats/auth-secrets.json', SB_KEK_FILE: '/etc/switchboard/nats/kek' });
    for (const name of Object.keys(SECRET_OF).filter((n) => n !== 'auth')) {
      expect([name, envOf(fleet, name).SB_NATS_AUTH_FILE, envOf(fleet, name).SB_KEK_FILE]).toEqual([name, undefined, undefined]);
    }
  });

  it('leaves the KEK to the spec when it gives auth SB_KEK (auth refuses both)', () => {
    const fleet = spec((d) => d.spec.services.auth.secrets.push({ env: 'SB_KEK', secretName: 'my-kek', key: 'kek' }));
    expect(envOf(fleet, 'auth').SB_KEK_FILE).toBeUndefined();
    expect(podOf(fleet, 'auth').containers[0].env).toContainEqual({ name: 'SB_KEK', valueFrom: { secretKeyRef: { name: 'my-kek', key: 'kek' } } });
  });

  it('names the Secrets after the fleet instance', () => {
    const fleet = spec((d) => (d.metadata.name = 'blue'));
    expect(podOf(fleet, 'gateway').volumes).toContainEqual({ name: 'nats-credentials', secret: { secretName: 'blue-nats-gateway', defaultMode: 0o440 } });
  });

  it('writes no credential into the generated files (they are committed)', () => {
    const all = generateManifests(spec())
      .map((f) => f.content)
      .join('\n');
    expect(all).not.toContain('NATS USER JWT');
    expect(all).not.toContain('USER NKEY SEED');
    // nkey seeds: S + the key type (Operator, Account, User) + base32.
    expect(all).not.toMatch(/\bS[OAU][A-Z2-7]{50,}/);
    expect(all).not.toContain('kind: Secret');
  });
});
