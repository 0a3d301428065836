/**
 * Secrets at rest, sealed with the key-encryption key (KEK) from auth's config: AES-256-GCM
 * with a random 96-bit nonce, in a versioned envelope `{v: 1, kek, iv, ct, tag}` that names
 * the KEK it was sealed with (a fingerprint, not the key), so a KEK can be rotated later: open()
 * takes the KEKs it may use and picks by that name. The associated data binds the envelope to
 * its record (e.g. `sb/auth/jwt-signing-key/<kid>`): a box copied onto another record fails.
 *
 * Only auth reads the KEK (SB_KEK, or SB_KEK_FILE: what a Kubernetes Secret mount gives).
 * Without one, SecretSealer keeps secrets unsealed, marked as such, for development only: the
 * config refuses that when NODE_ENV=production, and the first start with a KEK seals them.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@sb/config';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A key-encryption key: 32 bytes, and its public fingerprint `id`. The bytes never serialise (toJSON, logs). */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

export interface SealedBox {
  v: 1;
  /** The fingerprint of the KEK it was sealed with. */
  kek: string;
  iv: string;
  ct: string;
  tag: string;
}

/** What a store keeps for one secret: sealed, or (no KEK configured: development) the plaintext, marked. */
export type StoredSecret = SealedBox | { v: 0; plain: string };

export class SealedBoxError extends Error {}

export function kekFromBytes(bytes: Buffer): Kek {
  if (bytes.length !== KEY_BYTES) throw new Error(`a KEK is ${KEY_BYTES} bytes, got ${bytes.length}`);
  const id = createHmac('sha256', bytes).update('sb/kek-id').digest('hex').slice(0, 16);
  const kek = { id } as Kek;
  Object.defineProperty(kek, 'key', { value: Buffer.from(bytes), enumerable: false });
  Object.defineProperty(kek, 'toJSON', { value: () => ({ id }), enumerable: false });
  return Object.freeze(kek);
}

export function seal(kek: Kek, plaintext: Uint8Array | string, aad: string): SealedBox {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return { v: 1, kek: kek.id, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/** The plaintext; SealedBoxError when no given KEK sealed it, or it was altered or moved to another record (`aad`). */
export function open(keks: Kek | readonly Kek[], box: SealedBox, aad: string): Buffer {
  const kek = (Array.isArray(keks) ? keks : [keks]).find((k: Kek) => k.id === box.kek);
  if (!kek) throw new SealedBoxError(`sealed with KEK ${box.kek}, which is not the configured one (${[keks].flat().map((k) => k.id).join(', ')})`);
  const iv = Buffer.from(box.iv, 'base64');
  const tag = Buffer.from(box.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedBoxError('malformed sealed box');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(box.ct, 'base64')), decipher.final()]);
  } catch (cause) {
    throw new SealedBoxError(`sealed box failed authentication (altered, or not for ${aad})`, { cause });
  }
}

export function isSealedBox(value: unknown): value is SealedBox {
  const b = value as Partial<SealedBox> | null;
  return typeof b === 'object' && b !== null && b.v === 1 && [b.kek, b.iv, b.ct, b.tag].every((x) => typeof x === 'string');
}

export interface KekConfig {
  SB_KEK?: string;
  SB_KEK_FILE?: string;
}

/**
 * The KEK from config: SB_KEK (base64 of 32 bytes) or SB_KEK_FILE (a file holding that, or the
 * 32 raw bytes). Undefined when neither is set. A bad value is a ConfigError naming the variable.
 */
export function loadKek(config: KekConfig, readFile: (path: string) => Buffer = readFileSync): Kek | undefined {
  if (config.SB_KEK && config.SB_KEK_FILE) throw new ConfigError(['SB_KEK, SB_KEK_FILE: set one of them, not both']);
  if (config.SB_KEK) return kekFromBytes(decode(Buffer.from(config.SB_KEK.trim(), 'utf8'), 'SB_KEK', false));
  if (!config.SB_KEK_FILE) return undefined;
  let content: Buffer;
  try {
    content = readFile(config.SB_KEK_FILE);
  } catch (e) {
    throw new ConfigError([`SB_KEK_FILE: cannot read ${config.SB_KEK_FILE} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
  return kekFromBytes(decode(content, 'SB_KEK_FILE', true));
}

function decode(content: Buffer, name: string, rawAllowed: boolean): Buffer {
  const text = content.toString('utf8').trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === KEY_BYTES) return bytes;
  }
  if (rawAllowed && content.length === KEY_BYTES) return content;
  throw new ConfigError([`${name}: expected ${KEY_BYTES} random bytes, base64-encoded (e.g. \`openssl rand -base64 32\`)`]);
}

/**
 * Seals with the configured KEK, or keeps secrets unsealed when there is none (development).
 * Stores call wrap() before writing, unwrap() after reading, and rewrite what isCurrent() says
 * is stale: that is how a store written without a KEK is sealed on the first start with one.
 */
export class SecretSealer {
  constructor(readonly kek: Kek | undefined) {}

  get sealing(): boolean {
    return this.kek !== undefined;
  }

  wrap(plaintext: Uint8Array | string, aad: string): StoredSecret {
    if (this.kek) return seal(this.kek, plaintext, aad);
    return { v: 0, plain: Buffer.from(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext).toString('base64') };
  }

  unwrap(stored: StoredSecret, aad: string): Buffer {
    if (stored.v === 0) return Buffer.from(stored.plain, 'base64');
    if (!this.kek) throw new SealedBoxError(`sealed with KEK ${stored.kek}, but no KEK is configured (SB_KEK or SB_KEK_FILE)`);
    return open(this.kek, stored, aad);
  }

  /** False when `stored` is not what wrap() gives now (unsealed while a KEK is configured): rewrite it. */
  isCurrent(stored: StoredSecret): boolean {
    return this.kek ? stored.v === 1 && stored.kek === this.kek.id : true;
  }
}
