/**
 * The ES256 signing key ring. Keys live in a KV bucket (`sk.<epoch>` → private + public JWK),
 * one per rotation epoch: every auth replica computes the same epoch, and `create` lets only
 * one of them mint its key. A superseded key stays in the JWKS until every token it signed
 * has expired (successor's start + longest token lifetime + skew), then it is deleted.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { JWT_ALGORITHM, type Jwks, MAX_TOKEN_TTL_S, type PublicJwk } from '@sb/contracts';

export interface SigningKeyRecord {
  kid: string;
  epoch: number;
  createdAt: string;
  privateJwk: JWK;
  publicJwk: PublicJwk;
}

export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  /** False when another replica already created this epoch's key. */
  create(record: SigningKeyRecord): Promise<boolean>;
  delete(epoch: number): Promise<void>;
}

const RETIRE_SKEW_MS = 60_000;
type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export class SigningKeyRing {
  private keys: SigningKeyRecord[] = [];
  private signer?: { kid: string; key: SigningKey };

  constructor(
    private readonly store: SigningKeyStore,
    private readonly rotationMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxTokenTtlMs = MAX_TOKEN_TTL_S * 1000,
  ) {}

  /** Load, mint this epoch's key if missing, retire what no token can need. True when the public set changed. */
  async refresh(): Promise<boolean> {
    const before = this.kids();
    const now = this.now();
    const epoch = Math.floor(now / this.rotationMs);
    let keys = await this.store.list();
    if (!keys.some((k) => k.epoch >= epoch)) {
      await this.store.create(await mint(epoch, now));
      keys = await this.store.list();
    }
    keys.sort((a, b) => b.epoch - a.epoch);
    const kept: SigningKeyRecord[] = [];
    for (const [i, k] of keys.entries()) {
      const successor = keys[i - 1];
      // Tokens signed by `k` were minted before its successor's epoch began.
      const retireAt = successor ? successor.epoch * this.rotationMs + this.maxTokenTtlMs + RETIRE_SKEW_MS : Infinity;
      if (retireAt < now) await this.store.delete(k.epoch);
      else kept.push(k);
    }
    this.keys = kept;
    const current = kept.find((k) => k.epoch <= epoch) ?? kept[kept.length - 1];
    if (current && this.signer?.kid !== current.kid) this.signer = { kid: current.kid, key: await importJWK(current.privateJwk, JWT_ALGORITHM) };
    return before !== this.kids();
  }

  async signingKey(): Promise<{ kid: string; key: SigningKey }> {
    if (!this.signer) await this.refresh();
    if (!this.signer) throw new Error('no signing key');
    return this.signer;
  }

  jwks(): Jwks {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  private kids(): string {
    return this.keys.map((k) => k.kid).join(',');
  }
}

async function mint(epoch: number, now: number): Promise<SigningKeyRecord> {
  const { privateKey, publicKey } = await generateKeyPair(JWT_ALGORITHM, { extractable: true });
  const kid = `sk${epoch.toString(36)}-${randomBytes(6).toString('base64url')}`;
  const pub = await exportJWK(publicKey);
  return {
    kid,
    epoch,
    createdAt: new Date(now).toISOString(),
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: JWT_ALGORITHM },
    publicJwk: { kty: pub.kty as string, crv: pub.crv, x: pub.x, y: pub.y, kid, alg: JWT_ALGORITHM, use: 'sig' },
  };
}
