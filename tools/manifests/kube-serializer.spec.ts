/** Every generated object survives @kubernetes/client-node's serializer both ways, unchanged. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFleetSpec } from './fleet-spec.loader';
import { CUSTOM_RESOURCE, fromWire, modelTypeOf, toWire } from './kube-serializer';
import { kubernetesObjects } from './manifest.generator';

const spec = parseFleetSpec(readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8'));
const objects = kubernetesObjects(spec).flatMap((f) => f.objects);
const label = (o: { kind?: string; metadata?: { name?: string } }) => `${o.kind}/${o.metadata?.name}`;
/** JSON equality: what a YAML/JSON round trip would see (drops undefined fields). */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('client-node serializer round trip', () => {
  it('covers every kind the generator emits', () => {
    const kinds = [...new Set(objects.map((o) => `${o.kind}:${modelTypeOf(o) === CUSTOM_RESOURCE ? 'custom' : 'model'}`))];
    expect(kinds.sort()).toEqual([
      'ConfigMap:model', 'Deployment:model', 'DestinationRule:custom', 'HorizontalPodAutoscaler:model', 'Namespace:model', 'NetworkPolicy:model',
      'PeerAuthentication:custom', 'PodDisruptionBudget:model', 'PrometheusRule:custom', 'Role:model', 'RoleBinding:model', 'ScaledObject:custom', 'Service:model',
      'ServiceAccount:model', 'ServiceMonitor:custom', 'VirtualService:custom',
    ]);
  });

  it.each(objects.map((o) => [label(o), o] as const))('%s: model → wire → model → wire loses nothing', (_name, o) => {
    const wire = plain(toWire(o));
    const back = fromWire(wire);
    expect(plain(back)).toEqual(plain(o));
    expect(plain(toWire(back))).toEqual(wire);
  });

  it('would catch a loss: a field the model does not know is dropped by the serializer', () => {
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    const wire = plain(toWire({ ...deployment, spec: { ...(deployment as any).spec, replicaz: 3 } } as never));
    expect(wire.spec.replicaz).toBeUndefined();
  });
});
