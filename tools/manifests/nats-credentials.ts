/**
 * How a pod gets its NATS credentials (the server runs in operator mode: nothing connects
 * without them). `sb nats init` writes them (tools/nats-init.ts); the operator loads each
 * service's files into a Secret of its own, `<instance>-nats-<service>` (README "Deployment"
 * gives the kubectl commands), which the Deployment mounts read-only. The generated files name
 * the Secrets and never hold a credential: deploy/generated is committed.
 *
 *   <instance>-nats-<service>        nats.creds (every platform service)
 *   <instance>-nats-auth             also auth-secrets.json (SB_NATS_AUTH_FILE) and kek (SB_KEK_FILE)
 *   <instance>-nats-agent-worker     nats.creds: the pool agent credential every agent pool shares
 */
import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { AgentPoolSpec, FleetSpec, PlatformServiceSpec } from './fleet-spec.schema';

export const NATS_SECRET_DIR = '/etc/switchboard/nats';
export const NATS_SECRET_KEYS = { creds: 'nats.creds', authSecrets: 'auth-secrets.json', kek: 'kek' } as const;
const VOLUME = 'nats-credentials';

/** The Secret a workload's credentials come from (`service`: `gateway`, ..., or `agent-worker` for every pool). */
export const natsSecretName = (fleet: FleetSpec, service: string): string => `${fleet.metadata.name}-nats-${service}`;

const fileOf = (key: string) => `${NATS_SECRET_DIR}/${key}`;

/** NATS_CREDS; for auth also its signing secrets and the KEK sealing them (unless the spec gives SB_KEK itself). */
export function natsEnv(service: string, spec: PlatformServiceSpec | AgentPoolSpec): V1EnvVar[] {
  const env: V1EnvVar[] = [{ name: 'NATS_CREDS', value: fileOf(NATS_SECRET_KEYS.creds) }];
  if (service !== 'auth') return env;
  env.push({ name: 'SB_NATS_AUTH_FILE', value: fileOf(NATS_SECRET_KEYS.authSecrets) });
  // SB_KEK and SB_KEK_FILE together stop auth: a spec that sets SB_KEK keeps it alone.
  const ownKek = spec.secrets.some((s) => s.env === 'SB_KEK') || 'SB_KEK' in spec.env;
  if (!ownKek) env.push({ name: 'SB_KEK_FILE', value: fileOf(NATS_SECRET_KEYS.kek) });
  return env;
}

/** The Secret as a volume: files readable by the pod's group only (fsGroup), as `sb nats init` wrote them 0600. */
export const natsVolume = (secretName: string): V1Volume => ({ name: VOLUME, secret: { secretName, defaultMode: 0o440 } });

export const natsVolumeMount: V1VolumeMount = { name: VOLUME, mountPath: NATS_SECRET_DIR, readOnly: true };
