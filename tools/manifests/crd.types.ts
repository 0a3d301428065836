/**
 * Typed shapes for the custom resources the generator emits (KEDA, Istio, Prometheus Operator).
 * @kubernetes/client-node has no types for CRDs; these cover the fields we set, so a typo still
 * fails to compile.
 */
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';

interface CustomResource<A extends string, K extends string, S> {
  apiVersion: A;
  kind: K;
  metadata: V1ObjectMeta;
  spec: S;
}

export type KedaScaledObject = CustomResource<'keda.sh/v1alpha1', 'ScaledObject', {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  pollingInterval: number;
  cooldownPeriod: number;
  triggers: Array<{ type: 'nats-jetstream'; metadata: Record<string, string> }>;
}>;

export interface IstioHttpRoute {
  name: string;
  route: Array<{ destination: { host: string; port: { number: number } } }>;
  timeout: string;
  retries: { attempts: number; perTryTimeout: string; retryOn: string };
  fault?: { delay?: { percentage: { value: number }; fixedDelay: string }; abort?: { percentage: { value: number }; httpStatus: number } };
}
export type IstioVirtualService = CustomResource<'networking.istio.io/v1', 'VirtualService', { hosts: string[]; http: IstioHttpRoute[] }>;

export type IstioDestinationRule = CustomResource<'networking.istio.io/v1', 'DestinationRule', {
  host: string;
  trafficPolicy: {
    loadBalancer: { simple: string };
    connectionPool: { tcp: { maxConnections: number }; http: { http1MaxPendingRequests: number; maxRequestsPerConnection: number } };
    outlierDetection: { consecutive5xxErrors: number; interval: string; baseEjectionTime: string; maxEjectionPercent: number };
    tls: { mode: 'ISTIO_MUTUAL' };
  };
}>;

export type IstioPeerAuthentication = CustomResource<'security.istio.io/v1', 'PeerAuthentication', { mtls: { mode: 'STRICT' | 'PERMISSIVE' | 'DISABLE' } }>;

export type ServiceMonitor = CustomResource<'monitoring.coreos.com/v1', 'ServiceMonitor', {
  jobLabel: string;
  selector: V1LabelSelector;
  namespaceSelector: { matchNames: string[] };
  endpoints: Array<{
    port: string;
    path: string;
    interval: string;
    scheme?: 'http' | 'https';
    tlsConfig?: { caFile: string; certFile: string; keyFile: string; insecureSkipVerify: boolean };
    relabelings?: Array<{ action: 'replace'; targetLabel: string; replacement: string }>;
  }>;
}>;

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string };
}
export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}
export type PrometheusRule = CustomResource<'monitoring.coreos.com/v1', 'PrometheusRule', { groups: RuleGroup[] }>;
