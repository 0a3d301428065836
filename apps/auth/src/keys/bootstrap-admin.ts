/**
 * The bootstrap admin key: a system key holding the platform `admin` scope, so there is an
 * admin from the first start. With SB_BOOTSTRAP_ADMIN_KEY set, that key (bootstrap-key.ts:
 * changing the setting revokes the previous one). Without it, a key is generated and printed
 * once; once a bootstrap admin key was ever registered, none is generated again.
 */
import { generateApiKey } from './api-key';
import { BOOTSTRAP_ADMIN, type BootstrapDeps, type ConfiguredOutcome, registerConfigured } from './bootstrap-key';

export const BOOTSTRAP_KEY_ID = BOOTSTRAP_ADMIN.id;

export async function ensureBootstrapAdmin(
  deps: BootstrapDeps,
  configuredKey: string | undefined,
  announce: (key: string) => void,
): Promise<ConfiguredOutcome | 'generated'> {
  if (configuredKey) return registerConfigured(deps, BOOTSTRAP_ADMIN, configuredKey);
  if (await deps.store.findById(BOOTSTRAP_ADMIN.id)) return 'existing';
  const key = generateApiKey();
  await registerConfigured(deps, BOOTSTRAP_ADMIN, key);
  announce(key);
  return 'generated';
}
