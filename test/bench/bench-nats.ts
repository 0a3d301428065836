/**
 * The bench's nats-server in operator mode (JWT auth, accounts), as Switchboard deploys it, and
 * the user each participant connects as:
 *  - every Switchboard service its own least-privilege platform user (serviceCreds, what
 *    `sb nats init` writes), auth also its signing secrets sealed with its KEK (SB_NATS_AUTH_FILE);
 *  - the agent-worker a pool agent user of the AGENTS account (any agent id, a private inbox);
 *  - a tenant's client what the gateway issues (POST /v1/nats/credentials: round-trips.ts);
 *  - the raw floors and the bench's own observers a platform user with no subject limits
 *    (platformAdminCreds), on the same server, so the floors stay comparable with the rows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, credsAuthenticator } from '@nats-io/nats-core';
import { agentPermissions, inboxPrefixOf, names, type PlatformService } from '@sb/contracts';
import { authSecretsOf, mintUser, type NatsSecurity, newUserKeyPair, platformAdminCreds, serviceCreds } from '@sb/messaging';
import { sealNatsAuthSecrets } from '../../apps/auth/src/nats/nats-auth-file';
import { kekFromBytes } from '../../apps/auth/src/secrets/sealed-box';
import { removeOnExit, type ServerHandle } from '../../libs/testing/src/local-servers';
import { startSecureNatsServer } from '../../libs/testing/src/secure-nats';

/** Auth's key-encryption key for this bench run (auth alone gets it; the same across restarts of auth). */
export const BENCH_KEK = randomBytes(32).toString('base64');

export type Env = Record<string, string>;

export interface BenchNats {
  readonly url: string;
  /** The server's current pid (for the CPU table). */
  readonly pid: number;
  readonly server: ServerHandle;
  readonly security: NatsSecurity;
  /** Connection options of a platform user with no subject limits: raw floors and the bench's observers. */
  platform(name: string): Promise<ConnectionOptions>;
  /** The `.creds` text of such a user (for a child process of the bench). */
  platformCreds(name: string): Promise<string>;
  /** A Switchboard service's NATS_CREDS under `prefix` (auth: also SB_NATS_AUTH_FILE, sealed with BENCH_KEK). */
  serviceEnv(prefix: string, service: PlatformService): Promise<Env>;
  /** Connection options of a service's user under `prefix` (the bench's in-process stand-ins for a service). */
  service(prefix: string, service: PlatformService, name?: string): Promise<ConnectionOptions>;
  /** NATS_CREDS of a pool agent (AGENTS account, any agent id) under `prefix`: the agent-worker's. */
  agentEnv(prefix: string, name?: string): Promise<Env>;
  /** Connection options of such an agent, with its private inbox (simulated agents). */
  agent(prefix: string, name?: string): Promise<ConnectionOptions>;
  destroy(): Promise<void>;
}

const enc = new TextEncoder();

/** Options for a `.creds` user: its authenticator, and its private inbox when it has one. */
export function credsOptions(url: string, creds: string, name: string, inboxPrefix?: string): ConnectionOptions {
  return { servers: url, name, noAsyncTraces: true, authenticator: credsAuthenticator(enc.encode(creds)), ...(inboxPrefix ? { inboxPrefix } : {}) };
}

/** `monitorPort`: nats-server's HTTP monitoring (`/connz` for the traffic table). */
export async function startBenchNats(opts: { monitorPort?: number } = {}): Promise<BenchNats> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-nats-'));
  removeOnExit(dir);
  const secure = await startSecureNatsServer(dir, opts.monitorPort ? { extraArgs: ['-m', String(opts.monitorPort)] } : {});
  const { server, security } = secure;
  let files = 0;
  const secretFile = (label: string, text: string): string => {
    const file = join(dir, `${++files}-${label}`);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const agentCreds = async (prefix: string, name: string) => {
    const user = newUserKeyPair();
    const inbox = inboxPrefixOf(user.getPublicKey());
    const minted = await mintUser(security.agents, { name, permissions: agentPermissions(names(prefix), '*', inbox) }, user);
    return { creds: minted.creds, inbox };
  };
  return {
    url: server.url,
    get pid() {
      return server.pid;
    },
    server,
    security,
    platform: async (name) => credsOptions(server.url, (await platformAdminCreds(security, name)).creds, name),
    platformCreds: async (name) => (await platformAdminCreds(security, name)).creds,
    serviceEnv: async (prefix, service) => {
      const env: Env = { NATS_CREDS: secretFile(`${prefix}-${service}.creds`, (await serviceCreds(security, prefix, service)).creds) };
      if (service !== 'auth') return env;
      // Sealed with auth's KEK, as deployed: only auth can read the NATS signing seeds.
      const sealed = sealNatsAuthSecrets(kekFromBytes(Buffer.from(BENCH_KEK, 'base64')), authSecretsOf(security));
      return { ...env, SB_NATS_AUTH_FILE: secretFile(`${prefix}-nats-auth.json`, sealed) };
    },
    service: async (prefix, service, name = service) => credsOptions(server.url, (await serviceCreds(security, prefix, service)).creds, name),
    agentEnv: async (prefix, name = 'bench-agent-worker') => {
      const { creds } = await agentCreds(prefix, name);
      return { NATS_CREDS: secretFile(`${prefix}-${name}.creds`, creds) };
    },
    agent: async (prefix, name = 'bench-agents') => {
      const { creds, inbox } = await agentCreds(prefix, name);
      return credsOptions(server.url, creds, name, inbox);
    },
    destroy: async () => {
      await server.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
