// The bootstrap keys: the admin key (SB_BOOTSTRAP_ADMIN_KEY, else .data/admin-key) and the
// agent key the workers register with (SB_BOOTSTRAP_AGENT_KEY, else .data/agent-key). A missing
// file gets a new key of the API-key format (`sbk_…`, 190 bits: what auth requires), saved with
// mode 0600; the launcher prints where a key is kept, never the key. A file holding a key of an
// older format is replaced by a new key (auth refuses weak keys, and revokes the key it replaced).
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { API_KEY_FORMAT, generateApiKey, isWellFormedApiKey } from '../../libs/contracts/src/api-key-format';
import { OneLineError } from './infra';

export interface AdminKey {
  key: string;
  /** `replaced`: the file held a key of an older format; a new key is in it now. */
  source: 'env' | 'file' | 'generated' | 'replaced';
  file?: string;
}
/** Same shape: where the agent key came from. */
export type AgentKey = AdminKey;

export function resolveAdminKey(fromEnv: string | undefined, file: string): AdminKey {
  return resolveKey(fromEnv, file, 'an admin key', 'SB_BOOTSTRAP_ADMIN_KEY');
}

/** What auth gets as SB_BOOTSTRAP_AGENT_KEY and the workers as SB_AGENT_KEY. */
export function resolveAgentKey(fromEnv: string | undefined, file: string): AgentKey {
  return resolveKey(fromEnv, file, 'an agent key', 'SB_BOOTSTRAP_AGENT_KEY');
}

function resolveKey(fromEnv: string | undefined, file: string, what: string, envName: string): AdminKey {
  if (fromEnv) {
    if (!isWellFormedApiKey(fromEnv)) {
      throw new OneLineError(`${envName} is not an API key of the generated format (${API_KEY_FORMAT}): unset it, or make one with \`node dist/scripts/new-api-key.js\``);
    }
    return { key: fromEnv, source: 'env' };
  }
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (!key) throw new OneLineError(`${file} is empty: delete it to generate ${what}, or set ${envName}`);
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (isWellFormedApiKey(key)) return { key, source: 'file', file };
    const fresh = generateApiKey();
    writeFileSync(file, `${fresh}\n`, { mode: 0o600 });
    return { key: fresh, source: 'replaced', file };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = generateApiKey();
  // 'wx': never overwrite a key another launcher wrote meanwhile.
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}
