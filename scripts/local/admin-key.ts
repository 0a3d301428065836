// The bootstrap keys: the admin key (SB_BOOTSTRAP_ADMIN_KEY, else .data/admin-key) and the
// agent key the workers register with (SB_BOOTSTRAP_AGENT_KEY, else .data/agent-key); a missing
// file gets a new `sb_admin_` / `sb_agent_` + 32 base62 chars, saved with mode 0600.
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface AdminKey {
  key: string;
  source: 'env' | 'file' | 'generated';
  file?: string;
}
/** Same shape: where the agent key came from. */
export type AgentKey = AdminKey;

function generateKey(prefix: string): string {
  let out = prefix;
  for (let i = 0; i < 32; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export function generateAdminKey(): string {
  return generateKey('sb_admin_');
}

export function resolveAdminKey(fromEnv: string | undefined, file: string): AdminKey {
  return resolveKey(fromEnv, file, 'sb_admin_', 'an admin key', 'SB_BOOTSTRAP_ADMIN_KEY');
}

/** What auth gets as SB_BOOTSTRAP_AGENT_KEY and the workers as SB_AGENT_KEY. */
export function resolveAgentKey(fromEnv: string | undefined, file: string): AgentKey {
  return resolveKey(fromEnv, file, 'sb_agent_', 'an agent key', 'SB_BOOTSTRAP_AGENT_KEY');
}

function resolveKey(fromEnv: string | undefined, file: string, prefix: string, what: string, envName: string): AdminKey {
  if (fromEnv) return { key: fromEnv, source: 'env' };
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!key) throw new Error(`${file} is empty: delete it to generate ${what}, or set ${envName}`);
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key, source: 'file', file };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = generateKey(prefix);
  // 'wx': never overwrite a key another launcher wrote meanwhile.
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}
