// NATS security for `npm start`: the operator, accounts and every service's credentials,
// made once under .data/nats-auth/ (mode 0600) and reused, so the nats-server the launcher
// starts runs in operator mode as deployed. The launcher is the operator here: it mints the
// services' users and its worker's agent user itself (the same files `sb nats init` writes for
// a deployment); tenants get theirs from the gateway.
import { join } from 'node:path';
import type { Kek } from '../../apps/auth/src/secrets/sealed-box';
import { PLATFORM_SERVICES, type PlatformService } from '../../libs/contracts/src';
import { platformAdminCreds } from '../../libs/messaging/src/nats-auth';
import { credsFileOf, NATS_SECURITY_FILES, writeNatsSecurityDir } from '../../tools/nats-init';

export interface LocalNatsSecurity {
  /** The nats-server configuration (operator mode) to start the server with. */
  serverConf: string;
  /** NATS_CREDS of a service (or the worker, as an agent). */
  credsFile(service: string): string;
  /** Auth's SB_NATS_AUTH_FILE. */
  authSecretsFile: string;
  /** The launcher's own platform user (it serves recovery's local runtime requests). */
  launcherCreds: string;
}

/** `kek`: auth's key-encryption key, which seals auth's copy of the signing secrets. */
export async function ensureNatsSecurity(dataDir: string, prefix: string, kek: Kek | undefined): Promise<LocalNatsSecurity> {
  const dir = join(dataDir, 'nats-auth');
  // Everything but security.json is rewritten on every start (cheap, and a changed prefix or permission set takes effect).
  // Auth's copy of the signing secrets is sealed with its KEK (only auth can read them), never written in clear first.
  const { security } = await writeNatsSecurityDir({ dir, prefix, resolverDir: join(dir, 'jwt'), workerName: 'npm-start-worker', kek });
  const isOurs = (service: string) => PLATFORM_SERVICES.includes(service as PlatformService) || service === 'agent-worker';
  return {
    serverConf: join(dir, NATS_SECURITY_FILES.serverConf),
    credsFile: (service) => join(dir, isOurs(service) ? credsFileOf(service as PlatformService) : 'missing.creds'),
    authSecretsFile: join(dir, NATS_SECURITY_FILES.authSecrets),
    launcherCreds: (await platformAdminCreds(security, 'npm-start-launcher')).creds,
  };
}
