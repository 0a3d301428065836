/**
 * The bootstrap agent key: with SB_BOOTSTRAP_AGENT_KEY set, that key is a system-tenant key
 * holding `['agent']`, so a fleet's agents can register from the first start. When the setting
 * changes or is removed, the key it named stops being valid at once (bootstrap-key.ts).
 */
import { BOOTSTRAP_AGENT, type BootstrapDeps, type ConfiguredOutcome, liveBootstrapKey, registerConfigured, retire } from './bootstrap-key';

export const BOOTSTRAP_AGENT_KEY_ID = BOOTSTRAP_AGENT.id;

export type BootstrapAgentOutcome =
  | ConfiguredOutcome
  /** Not configured, and no bootstrap agent key is valid. */
  | 'none'
  /** Not configured any more: the previous key is revoked. */
  | 'revoked';

export async function ensureBootstrapAgent(deps: BootstrapDeps, configuredKey: string | undefined): Promise<BootstrapAgentOutcome> {
  if (configuredKey) return registerConfigured(deps, BOOTSTRAP_AGENT, configuredKey);
  const live = await liveBootstrapKey(deps.store, BOOTSTRAP_AGENT);
  if (!live) return 'none';
  await retire(deps, live, BOOTSTRAP_AGENT);
  return 'revoked';
}
