/**
 * `sb nats init`: a deployment's NATS security as files, for a nats-server in operator mode and
 * the services that connect to it (README "Deployment", "Who reaches what on NATS"). The keys
 * are made once (`security.json`); every other file is minted from them on each run, so running
 * it again re-mints credentials and the server's auth config (a new prefix, new service users)
 * without new keys. `npm start` writes its `.data/nats-auth/` with the same function.
 *
 *   security.json          every seed of the deployment: the operator's, the accounts'. Keep it offline.
 *   auth.conf              the server's auth config (`include` it beside the rest of nats.conf)
 *   auth-secrets.json      auth's SB_NATS_AUTH_FILE: what it needs to mint and revoke client users,
 *                          sealed with auth's key-encryption key (`--kek-file`, SB_KEK_FILE; made if missing)
 *   <service>.creds        each platform service's NATS_CREDS (PLATFORM account, least privilege)
 *   agent-worker.creds     a pool agent credential (AGENTS account, any agent id)
 *   ops.creds              an ops subscriber (OPS account: alerts and agents' liveness, read-only)
 *   platform-admin.creds   everything of the PLATFORM account: an operator's `nats` CLI context
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { agentPermissions, inboxPrefixOf, names, PLATFORM_SERVICES, type PlatformService, subscriberPermissions } from '@sb/contracts';
import { authSecretsOf, createNatsSecurity, keyPair, mintUser, type NatsSecurity, platformAdminCreds, serverAuthConfig, serviceCreds } from '@sb/messaging/nats-auth';
import { ConfigError } from '@sb/config';
import { sealNatsAuthSecrets } from '../apps/auth/src/nats/nats-auth-file';
import { type Kek, loadKek } from '../apps/auth/src/secrets/sealed-box';
import { UsageError } from './usage-error';

export const NATS_SECURITY_FILES = {
  security: 'security.json',
  serverConf: 'auth.conf',
  authSecrets: 'auth-secrets.json',
  agentWorker: 'agent-worker.creds',
  ops: 'ops.creds',
  platformAdmin: 'platform-admin.creds',
} as const;

/** The credentials file of a platform service, or of the bundled agent worker. */
export const credsFileOf = (service: PlatformService | 'agent-worker'): string => `${service}.creds`;

export interface NatsSecurityDirOptions {
  /** Where the files go; made (mode 0700) if missing. */
  dir: string;
  /** The subject prefix every permission is written for (SB_PREFIX). */
  prefix: string;
  /** Where nats-server keeps the account JWTs auth pushes: a directory on the server's own volume. */
  resolverDir: string;
  /** Make new keys even if `security.json` exists: every credential made with the old ones stops working. */
  newKeys?: boolean;
  /** The name of the pool agent user in agent-worker.creds. */
  workerName?: string;
  /** Auth's key-encryption key: auth-secrets.json is sealed with it (else plaintext: auth refuses that in production). */
  kek?: Kek;
}

export interface NatsSecurityDir {
  security: NatsSecurity;
  /** The keys were made by this run (else read from `security.json`). */
  created: boolean;
  /** The files written, relative to the directory, in the order written. */
  written: string[];
}

/** `security.json` is not what `sb nats init` writes (exit 65). */
export class NatsSecurityFileError extends Error {}

const SEEDS = { operator: 'O', operatorSigning: 'O', sys: 'A', platform: 'A', agents: 'A', ops: 'A', tenantSigning: 'A' } as const;

export function readNatsSecurityFile(file: string): NatsSecurity {
  let s: Partial<Record<keyof NatsSecurity, unknown>>;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as typeof s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code) throw err;
    throw new NatsSecurityFileError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (s?.v !== 1) throw new NatsSecurityFileError(`${file}: expected "v": 1`);
  for (const [field, kind] of Object.entries(SEEDS) as [keyof typeof SEEDS, string][]) {
    const seed = s[field];
    // An account seed gives an `A...` public key, an operator seed an `O...` one.
    let ok = false;
    try {
      ok = typeof seed === 'string' && keyPair(seed).getPublicKey().startsWith(kind);
    } catch {
      ok = false;
    }
    if (!ok) throw new NatsSecurityFileError(`${file}: "${field}" is not an ${kind === 'O' ? 'operator' : 'account'} seed`);
  }
  return s as NatsSecurity;
}

/**
 * Writes the directory (layout above). Each file is written whole under a temporary name and
 * renamed into place, mode 0600: a reader never sees half a file, and a file that was readable
 * more widely before is replaced, not rewritten in place.
 */
export async function writeNatsSecurityDir(o: NatsSecurityDirOptions): Promise<NatsSecurityDir> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const secret = (name: string, text: string) => {
    const file = join(o.dir, name);
    const tmp = `${file}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
    written.push(name);
  };
  const securityFile = join(o.dir, NATS_SECURITY_FILES.security);
  const created = o.newKeys === true || !existsSync(securityFile);
  const security = created ? createNatsSecurity() : readNatsSecurityFile(securityFile);
  if (created) secret(NATS_SECURITY_FILES.security, `${JSON.stringify(security, null, 2)}\n`);

  const n = names(o.prefix);
  secret(NATS_SECURITY_FILES.serverConf, await serverAuthConfig(security, o.resolverDir));
  const authSecrets = authSecretsOf(security);
  secret(NATS_SECURITY_FILES.authSecrets, o.kek ? sealNatsAuthSecrets(o.kek, authSecrets) : `${JSON.stringify(authSecrets, null, 2)}\n`);
  for (const service of PLATFORM_SERVICES) secret(credsFileOf(service), (await serviceCreds(security, o.prefix, service)).creds);
  // A pool credential: any agent id (the agent key binds the rest), its replies under its own inbox.
  const worker = createUser();
  const permissions = agentPermissions(n, '*', inboxPrefixOf(worker.getPublicKey()));
  const agent = await mintUser(security.agents, { name: o.workerName ?? 'agent-worker', permissions }, worker);
  secret(NATS_SECURITY_FILES.agentWorker, agent.creds);
  secret(NATS_SECURITY_FILES.ops, (await mintUser(security.ops, { name: 'ops', permissions: subscriberPermissions(n) })).creds);
  secret(NATS_SECURITY_FILES.platformAdmin, (await platformAdminCreds(security)).creds);
  return { security, created, written };
}

export const NATS_INIT_USAGE = 'usage: sb nats init --out <dir> [--prefix sb] [--resolver-dir /data/jwt] [--kek-file <file>] [--force]';
const PREFIX = /^[a-z][a-z0-9]{0,15}$/;
const VALUED = ['out', 'prefix', 'resolver-dir', 'kek-file'] as const;
type Valued = (typeof VALUED)[number];

interface NatsInitArgs {
  out: string;
  prefix: string;
  resolverDir: string;
  kekFile?: string;
  force: boolean;
}

function parseArgs(args: string[]): NatsInitArgs {
  const v: Partial<Record<Valued, string>> = {};
  let force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--force') {
      force = true;
      continue;
    }
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const key = flag.slice(2) as Valued;
    if (!flag.startsWith('--') || !VALUED.includes(key)) {
      throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
    }
    const value = flag === a ? args[++i] : a.slice(eq + 1);
    if (!value) throw new UsageError(`${flag} needs a value`);
    v[key] = value;
  }
  if (!v.out) throw new UsageError('missing --out <dir>');
  const prefix = v.prefix ?? 'sb';
  if (!PREFIX.test(prefix)) throw new UsageError(`--prefix ${prefix}: expected 1-16 lowercase letters/digits, first a letter (SB_PREFIX)`);
  return { out: v.out, prefix, resolverDir: v['resolver-dir'] ?? '/data/jwt', kekFile: v['kek-file'], force };
}

/** Auth's KEK from `file` (what SB_KEK_FILE names), made there first if missing: 32 random bytes, base64, 0600. */
function readOrMakeKek(file: string): { kek: Kek; made: boolean } {
  let made = false;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // 'wx': never replace a KEK written meanwhile (what it sealed would be lost).
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    made = true;
  }
  try {
    return { kek: loadKek({ SB_KEK_FILE: file }) as Kek, made };
  } catch (err) {
    if (err instanceof ConfigError) throw new NatsSecurityFileError(`--kek-file ${file}: ${err.problems.join('; ')}`);
    throw err;
  }
}

/** `sb nats init ...`: exit status 0; throws UsageError, NatsSecurityFileError or an I/O error. */
export async function runNatsInit(args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const a = parseArgs(args);
  const kek = a.kekFile ? readOrMakeKek(a.kekFile) : undefined;
  const dir = await writeNatsSecurityDir({ dir: a.out, prefix: a.prefix, resolverDir: a.resolverDir, newKeys: a.force, kek: kek?.kek });
  const keys = join(a.out, NATS_SECURITY_FILES.security);
  if (!dir.created) out(`kept the NATS keys in ${keys} (--force makes new ones)\n`);
  else if (a.force) out(`made new NATS keys in ${keys}: every credential made with the old ones no longer connects\n`);
  else out(`made new NATS keys in ${keys}: every seed of the deployment, keep a copy offline and out of the cluster\n`);
  if (kek?.made) out(`made a new key-encryption key in ${a.kekFile}: auth's SB_KEK_FILE (it seals auth's secrets at rest: keep a copy offline)\n`);
  const minted = dir.written.filter((f) => f !== NATS_SECURITY_FILES.security).join(', ');
  out(`wrote ${minted} to ${a.out} (prefix ${a.prefix}, resolver dir ${a.resolverDir})\n`);
  if (!kek) out(`${NATS_SECURITY_FILES.authSecrets} is plaintext: auth refuses it when NODE_ENV=production (seal it with --kek-file)\n`);
  return 0;
}
