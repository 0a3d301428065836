/**
 * Core Kubernetes objects, typed with @kubernetes/client-node: Namespace, ServiceAccount (plus a
 * Role and RoleBinding for recovery's Kubernetes runtime adapter), Deployment (probes, resources, hardened security context), Service, HorizontalPodAutoscaler
 * (platform services; agent pools scale on queue lag through KEDA) and PodDisruptionBudget.
 */
import type {
  V1Deployment,
  V1Namespace,
  V1PodDisruptionBudget,
  V1Probe,
  V1Role,
  V1RoleBinding,
  V1Service,
  V1ServiceAccount,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
} from '@kubernetes/client-node';
import type { FleetSpec, PlatformServiceSpec } from './fleet-spec.schema';
import { natsVolume, natsVolumeMount } from './nats-credentials';
import { agentPoolNames, opsPortName, type Workload } from './workload.model';

const meta = (fleet: FleetSpec, w: Workload) => ({ name: w.name, namespace: fleet.metadata.namespace, labels: w.labels });

export function namespaceOf(fleet: FleetSpec): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: fleet.metadata.namespace,
      labels: {
        'app.kubernetes.io/part-of': 'switchboard',
        ...(fleet.spec.mesh.istio ? { 'istio-injection': 'enabled' } : {}),
        // Pod Security Admission: the restricted profile is what the Deployments satisfy.
        'pod-security.kubernetes.io/enforce': 'restricted',
      },
    },
  };
}

export function serviceAccountOf(fleet: FleetSpec, w: Workload): V1ServiceAccount {
  // Only recovery's runtime adapter talks to the Kubernetes API; every other pod gets no token.
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(fleet, w), automountServiceAccountToken: w.kubernetesApi };
}

/**
 * What recovery's Kubernetes runtime adapter does, and nothing more, in the fleet's namespace:
 * restart/replace an agent = find its pod (list by label and field selector) and delete it; scale
 * a pool = merge-patch the scale subresource of that pool's Deployment, and of no other. (Pod
 * names are random, so the pod rule cannot name them; the adapter checks each pod's labels and
 * owner before deleting it.)
 */
export function roleOf(fleet: FleetSpec, w: Workload): V1Role | undefined {
  if (!w.kubernetesApi) return undefined;
  const pools = agentPoolNames(fleet);
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(fleet, w),
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'delete'] },
      // An empty resourceNames would mean every Deployment: no pools, no rule.
      ...(pools.length ? [{ apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: pools, verbs: ['patch'] }] : []),
    ],
  };
}

export function roleBindingOf(fleet: FleetSpec, w: Workload): V1RoleBinding | undefined {
  if (!w.kubernetesApi) return undefined;
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(fleet, w),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: w.name },
    subjects: [{ kind: 'ServiceAccount', name: w.name, namespace: fleet.metadata.namespace }],
  };
}

const probe = (w: Workload, path: string, failureThreshold: number, periodSeconds: number): V1Probe => ({
  httpGet: { path, port: opsPortName(w), scheme: 'HTTP' },
  periodSeconds,
  timeoutSeconds: 3,
  failureThreshold,
});

export function deploymentOf(fleet: FleetSpec, w: Workload): V1Deployment {
  const grace = fleet.spec.shutdownGraceSeconds;
  const annotations: Record<string, string> = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(w.opsPort), 'prometheus.io/path': '/metrics' };
  if (fleet.spec.mesh.istio) {
    // Let the sidecar start before the app connects to NATS, and stop after it drains.
    annotations['proxy.istio.io/config'] = '{"holdApplicationUntilProxyStarts":true}';
    annotations['sidecar.istio.io/rewriteAppHTTPProbers'] = 'true';
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(fleet, w),
    spec: {
      replicas: w.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: w.selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      template: {
        metadata: { labels: w.labels, annotations },
        spec: {
          serviceAccountName: w.name,
          automountServiceAccountToken: w.kubernetesApi,
          // The service hard-exits at grace + 2 s; Kubernetes waits a little longer before SIGKILL.
          terminationGracePeriodSeconds: grace + 5,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: w.selector } }],
          containers: [
            {
              name: w.service,
              image: w.image,
              imagePullPolicy: w.pullPolicy,
              ports: [{ name: 'http', containerPort: w.port, protocol: 'TCP' }, ...(w.opsPort !== w.port ? [{ name: 'http-ops', containerPort: w.opsPort, protocol: 'TCP' }] : [])],
              env: w.env,
              resources: { requests: { ...w.resources.requests }, limits: { ...w.resources.limits } },
              startupProbe: probe(w, '/health/live', 30, 2),
              livenessProbe: probe(w, '/health/live', 3, 10),
              readinessProbe: probe(w, '/health/ready', 2, 5),
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, natsVolumeMount],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }, natsVolume(w.natsSecret)],
        },
      },
    },
  };
}

export function serviceOf(fleet: FleetSpec, w: Workload): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(fleet, w),
    spec: {
      type: 'ClusterIP',
      selector: w.selector,
      // `http-` prefix: Istio's protocol selection treats the port as HTTP. The ops port is there
      // for the ServiceMonitor; the NetworkPolicy admits only the monitoring namespace to it.
      ports: [
        { name: 'http', port: w.port, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
        ...(w.opsPort !== w.port ? [{ name: 'http-ops', port: w.opsPort, targetPort: 'http-ops', protocol: 'TCP', appProtocol: 'http' }] : []),
      ],
    },
  };
}

/** Platform services with `scaling` get an HPA on CPU (and memory when set). */
export function hpaOf(fleet: FleetSpec, w: Workload): V2HorizontalPodAutoscaler | undefined {
  if (w.kind !== 'platform') return undefined;
  const scaling = (w.spec as PlatformServiceSpec).scaling;
  if (!scaling) return undefined;
  const metrics: V2MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: scaling.targetCpuUtilization } } }];
  if (scaling.targetMemoryUtilization !== undefined) {
    metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: scaling.targetMemoryUtilization } } });
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(fleet, w),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name },
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      metrics,
      // Scale up fast, down slowly: a task burst should not flap the fleet.
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } },
    },
  };
}

export function pdbOf(fleet: FleetSpec, w: Workload): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: meta(fleet, w),
    spec: { maxUnavailable: w.spec.maxUnavailable, selector: { matchLabels: w.selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}
