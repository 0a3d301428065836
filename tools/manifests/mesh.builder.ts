/**
 * Istio: per workload a VirtualService (timeout, retries, optional fault injection) and a
 * DestinationRule (load balancer, connection pool, outlier detection, mTLS to the pods), and a
 * namespace-wide STRICT PeerAuthentication.
 */
import type { FleetSpec } from './fleet-spec.schema';
import type { IstioDestinationRule, IstioHttpRoute, IstioPeerAuthentication, IstioVirtualService } from './crd.types';
import { PART_OF } from './platform-catalog';
import { hostOf, type Workload } from './workload.model';

export function virtualServiceOf(fleet: FleetSpec, w: Workload): IstioVirtualService {
  const r = w.spec.routing;
  const host = hostOf(fleet, w);
  const route: IstioHttpRoute = {
    name: 'default',
    route: [{ destination: { host, port: { number: w.port } } }],
    timeout: r.timeout,
    retries: { attempts: r.retries.attempts, perTryTimeout: r.retries.perTryTimeout, retryOn: r.retries.retryOn },
  };
  if (r.fault && (r.fault.delay || r.fault.abort)) {
    route.fault = {
      ...(r.fault.delay ? { delay: { percentage: { value: r.fault.delay.percent }, fixedDelay: r.fault.delay.fixedDelay } } : {}),
      ...(r.fault.abort ? { abort: { percentage: { value: r.fault.abort.percent }, httpStatus: r.fault.abort.httpStatus } } : {}),
    };
  }
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: w.name, namespace: fleet.metadata.namespace, labels: w.labels },
    spec: { hosts: [host], http: [route] },
  };
}

export function destinationRuleOf(fleet: FleetSpec, w: Workload): IstioDestinationRule {
  const lb = w.spec.loadBalancer;
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: w.name, namespace: fleet.metadata.namespace, labels: w.labels },
    spec: {
      host: hostOf(fleet, w),
      trafficPolicy: {
        loadBalancer: { simple: lb.policy },
        connectionPool: { tcp: { maxConnections: lb.maxConnections }, http: { http1MaxPendingRequests: lb.http1MaxPendingRequests, maxRequestsPerConnection: lb.maxRequestsPerConnection } },
        outlierDetection: { ...lb.outlierDetection },
        tls: { mode: 'ISTIO_MUTUAL' },
      },
    },
  };
}

export function peerAuthenticationOf(fleet: FleetSpec): IstioPeerAuthentication {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: fleet.metadata.namespace, labels: { 'app.kubernetes.io/part-of': PART_OF } },
    spec: { mtls: { mode: 'STRICT' } },
  };
}
