/**
 * From the @kubernetes/client-node model objects we build to the wire JSON Kubernetes reads.
 * They differ: the models rename a few fields (`_from` for a NetworkPolicy rule's `from`), so
 * every object goes through client-node's ObjectSerializer. Custom resources (no model) keep
 * their spec as is, with metadata serialised as V1ObjectMeta.
 *
 * Imported from dist/serializer.js, not the package index: the index also loads the HTTP client
 * (undici 8) and its dependencies, which generating manifests does not need.
 */
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

/** Anything with apiVersion/kind/metadata: the client-node model types and our CRD types. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
}

/** `<apiVersion>/<kind>` → client-node model name. Anything else is a custom resource. */
const MODELS: Readonly<Record<string, string>> = {
  'v1/Namespace': 'V1Namespace',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/Service': 'V1Service',
  'v1/ConfigMap': 'V1ConfigMap',
  'apps/v1/Deployment': 'V1Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler': 'V2HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
};

export const CUSTOM_RESOURCE = 'KubernetesObject';

export function modelTypeOf(o: { apiVersion?: string; kind?: string }): string {
  return MODELS[`${o.apiVersion}/${o.kind}`] ?? CUSTOM_RESOURCE;
}

/** Model object → wire JSON. */
export function toWire(o: KubeObject): Record<string, unknown> {
  return ObjectSerializer.serialize(o, modelTypeOf(o)) as Record<string, unknown>;
}

/** Wire JSON → model object (what a client-node caller would get back from the API). */
export function fromWire(wire: Record<string, unknown>): KubeObject {
  return ObjectSerializer.deserialize(wire, modelTypeOf(wire)) as KubeObject;
}
