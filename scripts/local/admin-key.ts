// The bootstrap admin key: SB_BOOTSTRAP_ADMIN_KEY, else .data/admin-key, else
// a new `sb_admin_` + 32 base62 chars saved there with mode 0600.
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface AdminKey {
  key: string;
  source: 'env' | 'file' | 'generated';
  file?: string;
}

export function generateAdminKey(): string {
  let out = 'sb_admin_';
  for (let i = 0; i < 32; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export function resolveAdminKey(fromEnv: string | undefined, file: string): AdminKey {
  if (fromEnv) return { key: fromEnv, source: 'env' };
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!key) throw new Error(`${file} is empty: delete it to generate a new admin key, or set SB_BOOTSTRAP_ADMIN_KEY`);
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key, source: 'file', file };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = generateAdminKey();
  // 'wx': never overwrite a key another launcher wrote meanwhile.
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}
