/**
 * NATS decentralized auth (operator → accounts → users) for Switchboard, in NATS's own formats:
 * account and user JWTs signed with nkeys (@nats-io/jwt, @nats-io/nkeys) and `.creds` files that
 * every NATS client library reads. Who may reach what is declared in libs/contracts/src/nats-access.ts.
 *
 * `createNatsSecurity()` makes the keys once per deployment (`sb nats init`, the launcher, the
 * test harness). What signs what:
 *  - the operator's signing key signs every account JWT (the operator's own key is only needed
 *    to sign the operator JWT, once);
 *  - PLATFORM, AGENTS, OPS and SYS sign their own users; tenant accounts (one per tenant, made by
 *    auth when a tenant first asks for credentials) share one signing key, so auth never stores a
 *    tenant account's own key.
 */
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Account, type Import } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { type NatsPermissions, PLATFORM_EXPORTS } from '@sb/contracts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Every seed of a deployment (what `sb nats init` writes; keep it secret). */
export interface NatsSecurity {
  v: 1;
  operator: string;
  operatorSigning: string;
  sys: string;
  platform: string;
  agents: string;
  ops: string;
  tenantSigning: string;
}

/** The part auth holds: what it needs to make tenant accounts, mint client users and push revocations. */
export type NatsAuthSecrets = Omit<NatsSecurity, 'operator' | 'platform'> & { platformPublic: string; operatorPublic: string };

const seedOf = (kp: KeyPair): string => dec.decode(kp.getSeed());

/** RFC 4648 base32 without padding, as nkeys encode seeds. */
function base32Decode(s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const c of s) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error('not a base32 nkey');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const signers = new Map<string, KeyPair>();

/**
 * The key pair of an nkey seed, signing with Node's native Ed25519 and its public key derived
 * once. nkeys.js derives the public key in JavaScript on every call (several per JWT), which
 * made an account update take 50-300 ms here; a revocation must reach the servers in well under 1 s.
 */
export function keyPair(seed: string): KeyPair {
  let kp = signers.get(seed);
  if (!kp) {
    kp = nativeKeyPair(seed);
    // The deployment's own keys: a handful, used again and again.
    signers.set(seed, kp);
  }
  return kp;
}

function nativeKeyPair(seed: string): KeyPair {
  const js = fromSeed(enc.encode(seed));
  const publicKey = js.getPublicKey();
  // An nkey seed: 2 prefix bytes, the 32-byte Ed25519 seed, a CRC.
  const raw = base32Decode(seed).subarray(2, 34);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw]), format: 'der', type: 'pkcs8' });
  // Everything else (seal/open of curve keys, verify...) stays nkeys.js's own.
  return Object.assign(Object.create(js) as KeyPair, {
    getPublicKey: () => publicKey,
    sign: (data: Uint8Array) => new Uint8Array(cryptoSign(null, data, privateKey)),
  });
}
export const publicKeyOf = (seed: string): string => keyPair(seed).getPublicKey();
/** A fresh user key pair, its public key derived once (see keyPair). */
export function newUserKeyPair(): KeyPair {
  return nativeKeyPair(dec.decode(createUser().getSeed()));
}

export function createNatsSecurity(): NatsSecurity {
  return {
    v: 1,
    operator: seedOf(createOperator()),
    operatorSigning: seedOf(createOperator()),
    sys: seedOf(createAccount()),
    platform: seedOf(createAccount()),
    agents: seedOf(createAccount()),
    ops: seedOf(createAccount()),
    tenantSigning: seedOf(createAccount()),
  };
}

export function authSecretsOf(s: NatsSecurity): NatsAuthSecrets {
  const { operator, platform, ...rest } = s;
  return { ...rest, platformPublic: publicKeyOf(platform), operatorPublic: publicKeyOf(operator) };
}

/** Accounts' limits: -1 is unlimited (an account JWT's limits default to zero connections). */
const UNLIMITED = { subs: -1, conn: -1, leaf: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true };
const NO_JETSTREAM = { mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 };
const JETSTREAM = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/** Revoked users: user public key → revoke every JWT of it issued at or before this time (seconds). */
export type Revocations = Record<string, number>;

type Signed = Promise<string>;
const signAccount = (name: string, accountSeed: string, operatorSigningSeed: string, claims: Partial<Account>): Signed =>
  encodeAccount(name, keyPair(accountSeed), claims, { signer: keyPair(operatorSigningSeed) });

export function operatorJwt(s: Pick<NatsSecurity, 'operator' | 'operatorSigning' | 'sys'>): Signed {
  return encodeOperator('switchboard', keyPair(s.operator), { system_account: publicKeyOf(s.sys), signing_keys: [publicKeyOf(s.operatorSigning)] });
}

export function sysAccountJwt(s: Pick<NatsSecurity, 'sys' | 'operatorSigning'>): Signed {
  return signAccount('SYS', s.sys, s.operatorSigning, { limits: UNLIMITED });
}

export function platformAccountJwt(s: Pick<NatsSecurity, 'platform' | 'operatorSigning'>): Signed {
  const e = PLATFORM_EXPORTS;
  const exports = [e.taskRequests, e.taskEvents, ...e.agentRequests, ...e.agentNotices, ...e.opsEvents].map((x) => ({
    name: x.subject,
    subject: x.subject,
    type: x.type,
    ...(x.type === 'service' ? { response_type: 'Singleton' as const } : {}),
  }));
  return signAccount('PLATFORM', s.platform, s.operatorSigning, { limits: { ...UNLIMITED, ...JETSTREAM }, exports });
}

const importsFrom = (platform: string, list: { subject: string; type: 'service' | 'stream' }[]): Import[] =>
  list.map((x) => ({ name: x.subject, subject: x.subject, account: platform, type: x.type }));

export function agentsAccountJwt(s: Pick<NatsAuthSecrets, 'agents' | 'operatorSigning'> & { platformPublic: string }, revocations: Revocations = {}): Signed {
  const e = PLATFORM_EXPORTS;
  return signAccount('AGENTS', s.agents, s.operatorSigning, {
    limits: { ...UNLIMITED, ...NO_JETSTREAM },
    imports: importsFrom(s.platformPublic, [...e.agentRequests, ...e.agentNotices]),
    revocations,
  });
}

export function opsAccountJwt(s: Pick<NatsAuthSecrets, 'ops' | 'operatorSigning'> & { platformPublic: string }, revocations: Revocations = {}): Signed {
  return signAccount('OPS', s.ops, s.operatorSigning, {
    limits: { ...UNLIMITED, ...NO_JETSTREAM },
    imports: importsFrom(s.platformPublic, PLATFORM_EXPORTS.opsEvents),
    revocations,
  });
}

export interface TenantAccountSpec {
  /** `<prefix>/<tenant>` (tenantAccountName). */
  name: string;
  prefix: string;
  tenantId: string;
  limits: { connections: number; subscriptions: number };
}

/**
 * A tenant's account: the task request subjects of its prefix and its own tenant's events,
 * nothing else. Its users are signed by the shared tenant signing key.
 */
export function tenantAccountJwt(
  s: Pick<NatsAuthSecrets, 'operatorSigning' | 'tenantSigning' | 'platformPublic'>,
  accountPublic: string,
  t: TenantAccountSpec,
  revocations: Revocations = {},
): Signed {
  const imports: Import[] = [
    { name: 'tasks', subject: `${t.prefix}.v1.tasks.*`, account: s.platformPublic, type: 'service' },
    { name: 'events', subject: `${t.prefix}.v1.tasks.events.${t.tenantId}.>`, account: s.platformPublic, type: 'stream' },
  ];
  // encodeAccount takes the account's key pair only for its public key (`sub`); the operator's signing key signs.
  return encodeAccount(
    t.name,
    { getPublicKey: () => accountPublic } as KeyPair,
    { limits: { ...UNLIMITED, ...NO_JETSTREAM, conn: t.limits.connections, subs: t.limits.subscriptions }, imports, signing_keys: [publicKeyOf(s.tenantSigning)], revocations },
    { signer: keyPair(s.operatorSigning) },
  );
}

/** A fresh account key for a new tenant (only its public key is kept). */
export const newAccountPublicKey = (): string => createAccount().getPublicKey();

export interface MintedUser {
  /** The `.creds` file: the user JWT and its nkey seed, as every NATS client reads it. */
  creds: string;
  userPublic: string;
  jwt: string;
}

export interface UserSpec {
  name: string;
  permissions: NatsPermissions;
  /** Seconds since the epoch; absent: never expires. */
  expiresAt?: number;
  tags?: string[];
  /** When a signing key (not the account's own) signs: the account the user belongs to. */
  issuerAccount?: string;
}

/** A user of an account, signed by `issuerSeed` (the account's key or one of its signing keys). */
export async function mintUser(issuerSeed: string, u: UserSpec, user: KeyPair = newUserKeyPair()): Promise<MintedUser> {
  const jwt = await encodeUser(
    u.name,
    user,
    keyPair(issuerSeed),
    { pub: u.permissions.pub, sub: u.permissions.sub, subs: -1, data: -1, payload: -1, ...(u.tags ? { tags: u.tags } : {}), ...(u.issuerAccount ? { issuer_account: u.issuerAccount } : {}) },
    u.expiresAt ? { exp: u.expiresAt } : {},
  );
  return { creds: dec.decode(fmtCreds(jwt, user)), userPublic: user.getPublicKey(), jwt };
}

/** The authorization part of a nats-server configuration (operator mode, a full resolver preloaded with the fixed accounts). */
export async function serverAuthConfig(s: NatsSecurity, resolverDir: string): Promise<string> {
  const a = authSecretsOf(s);
  const preload: [string, string][] = [
    [publicKeyOf(s.sys), await sysAccountJwt(s)],
    [publicKeyOf(s.platform), await platformAccountJwt(s)],
    [publicKeyOf(s.agents), await agentsAccountJwt(a)],
    [publicKeyOf(s.ops), await opsAccountJwt(a)],
  ];
  return [
    `operator: ${await operatorJwt(s)}`,
    `system_account: ${publicKeyOf(s.sys)}`,
    // A user JWT travels in CONNECT; services' fit the 4 KiB default (nats-security.spec), this leaves room.
    'max_control_line: 16384',
    // A client signs the server's nonce before its CONNECT; nats-server's default window (about a
    // second without TLS) was missed by services booting on a busy 2-core machine ("Authentication
    // Timeout" at start). Ten seconds still closes a silent connection soon.
    'authorization: { timeout: 10 }',
    `resolver: { type: full, dir: ${JSON.stringify(resolverDir)}, allow_delete: false, interval: "2m", limit: 100000 }`,
    'resolver_preload: {',
    ...preload.map(([k, jwt]) => `  ${k}: ${jwt}`),
    '}',
    '',
  ].join('\n');
}
