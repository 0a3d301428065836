// Auth's key-encryption key (KEK), which seals its secrets at rest (the JWT signing keys, the
// API-key pepper, the NATS signing seeds). SB_KEK_FILE or SB_KEK from the launcher's environment
// are passed on as they are; otherwise .data/kek holds one, made on the first start (32 random
// bytes, base64, mode 0600). Only auth is given it.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What auth's environment gets: SB_KEK_FILE (or SB_KEK), and the file it is in, if the launcher's. */
export interface KekSetting {
  env: { SB_KEK_FILE: string } | { SB_KEK: string };
  file?: string;
  generated: boolean;
}

export function resolveKek(env: NodeJS.ProcessEnv, file: string): KekSetting {
  if (env.SB_KEK_FILE) return { env: { SB_KEK_FILE: env.SB_KEK_FILE }, file: env.SB_KEK_FILE, generated: false };
  if (env.SB_KEK) return { env: { SB_KEK: env.SB_KEK }, generated: false };
  if (existsSync(file)) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { env: { SB_KEK_FILE: file }, file, generated: false };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': never overwrite a KEK another launcher wrote meanwhile (what it sealed would be lost).
  writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { env: { SB_KEK_FILE: file }, file, generated: true };
}
