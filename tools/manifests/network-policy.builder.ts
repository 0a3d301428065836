/**
 * NetworkPolicies: deny by default, then per workload exactly what it needs. Services talk to
 * each other only over NATS, so egress is DNS, NATS, Redis for the services that use it, the
 * OTLP collector when tracing is on, istiod when the mesh is on, the internet (minus private
 * ranges) on the webhook ports for alerting, and the API server for recovery's Kubernetes
 * runtime adapter; ingress is Prometheus on the HTTP port, plus outside callers for the public
 * gateway.
 */
import type { V1NetworkPolicy, V1NetworkPolicyEgressRule, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer } from '@kubernetes/client-node';
import type { FleetSpec, IpEgressSpec } from './fleet-spec.schema';
import { PART_OF } from './platform-catalog';
import type { Workload } from './workload.model';

const inNamespace = (ns: string, podLabels: Record<string, string> = {}): V1NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
  ...(Object.keys(podLabels).length > 0 ? { podSelector: { matchLabels: podLabels } } : {}),
});

const ipv4 = (cidr: string): [number, number] => {
  const [addr, bits] = cidr.split('/');
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return [n, Number(bits)];
};
/** Kubernetes rejects an `except` outside its block's `cidr`: each block gets only the exceptions it contains. */
export function within(inner: string, outer: string): boolean {
  const [a, ab] = ipv4(inner);
  const [b, bb] = ipv4(outer);
  if (ab < bb) return false;
  const size = 2 ** (32 - bb);
  return Math.floor(a / size) === Math.floor(b / size);
}

const toIps = (e: IpEgressSpec, port: (p: number) => { port: number; protocol: string }): V1NetworkPolicyEgressRule => ({
  to: e.cidrs.map((cidr) => {
    const except = e.except.filter((x) => within(x, cidr) && x !== cidr);
    return { ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } };
  }),
  ports: e.ports.map((p) => port(p)),
});

export function defaultDenyOf(fleet: FleetSpec): V1NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: fleet.metadata.namespace, labels: { 'app.kubernetes.io/part-of': PART_OF } },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
}

export function networkPolicyOf(fleet: FleetSpec, w: Workload): V1NetworkPolicy {
  const s = fleet.spec;
  const port = (p: number, protocol = 'TCP') => ({ port: p, protocol });
  const egress: V1NetworkPolicyEgressRule[] = [
    { to: [inNamespace('kube-system', { 'k8s-app': 'kube-dns' })], ports: [port(53, 'UDP'), port(53)] },
    { to: [inNamespace(s.nats.namespace, s.nats.podLabels)], ports: s.nats.ports.map((p) => port(p)) },
  ];
  if (w.redis) egress.push({ to: [inNamespace(s.redis.namespace, s.redis.podLabels)], ports: s.redis.ports.map((p) => port(p)) });
  if (s.tracing) egress.push({ to: [inNamespace(s.tracing.namespace, s.tracing.podLabels)], ports: s.tracing.ports.map((p) => port(p)) });
  if (w.webhooks) egress.push(toIps(s.webhookEgress, port));
  if (w.kubernetesApi) egress.push(toIps(s.recoveryRuntime.apiServer, port));
  if (s.mesh.istio) egress.push({ to: [inNamespace(s.mesh.istioNamespace, { app: 'istiod' })], ports: [port(15012)] });

  // Prometheus scrapes /metrics on the ops port (the HTTP port, or the gateway's OPS_PORT) and the collector's /metrics/fleet on the HTTP port.
  const scraped = w.opsPort === w.port || w.metricsPaths.some((p) => p !== '/metrics') ? [port(w.port)] : [];
  if (w.opsPort !== w.port) scraped.push(port(w.opsPort));
  const ingress: V1NetworkPolicyIngressRule[] = [{ _from: [inNamespace(s.monitoring.namespace)], ports: scraped }];
  if (w.public) {
    const from = s.ingressNamespaces.map((ns) => inNamespace(ns));
    // No ingress namespaces listed: the gateway is open to any caller on its port.
    ingress.push(from.length > 0 ? { _from: from, ports: [port(w.port)] } : { ports: [port(w.port)] });
  }
  if (s.mesh.istio) ingress.push({ ports: [port(15090), port(15020)] }); // sidecar telemetry and merged metrics
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: w.name, namespace: fleet.metadata.namespace, labels: w.labels },
    spec: { podSelector: { matchLabels: w.selector }, policyTypes: ['Ingress', 'Egress'], ingress, egress },
  };
}
