/**
 * A nats-server in operator mode (decentralized JWT auth), as Switchboard deploys it: the
 * platform, agents and ops accounts preloaded, tenant accounts pushed by auth at run time.
 * The jest global setup starts one per test run for the e2e fleets (`SB_SECURE_NATS_URL`, with
 * its keys in `SB_SECURE_NATS_FILE`); chaos tests and benches start their own.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNatsSecurity, type NatsSecurity, serverAuthConfig } from '@sb/messaging';
import { type NatsServerOptions, type ServerHandle, startNatsServer } from './local-servers';

export interface SecureNats {
  server: ServerHandle;
  security: NatsSecurity;
  /** Where the security bundle is written (JSON, mode 0600). */
  securityFile: string;
}

/** `opts.security`: the keys of an existing deployment (a server restored from a backup); default: new ones. */
export async function startSecureNatsServer(dir: string, opts: NatsServerOptions & { security?: NatsSecurity } = {}): Promise<SecureNats> {
  mkdirSync(dir, { recursive: true });
  const { security: given, ...serverOpts } = opts;
  const security = given ?? createNatsSecurity();
  const securityFile = join(dir, 'nats-security.json');
  writeFileSync(securityFile, JSON.stringify(security), { mode: 0o600 });
  const conf = join(dir, 'nats-server.conf');
  writeFileSync(conf, await serverAuthConfig(security, join(dir, 'jwt')), { mode: 0o600 });
  const server = await startNatsServer({ storeDir: join(dir, 'js'), ...serverOpts, extraArgs: ['-c', conf, ...(serverOpts.extraArgs ?? [])] });
  return { server, security, securityFile };
}

export function readNatsSecurity(file: string): NatsSecurity {
  return JSON.parse(readFileSync(file, 'utf8')) as NatsSecurity;
}
