/**
 * New API keys are minted here, at the edge, and handed to the caller from here: auth is sent
 * only the key's digest and display parts (MintedKey), so a key never crosses the bus, not
 * even when it is issued or rotated.
 */
import { apiKeyDisplayParts, generateApiKey, type MintedKey } from '@sb/contracts';
import { apiKeyDigest } from '@sb/messaging';

export function mintApiKey(): { key: string; minted: MintedKey } {
  const key = generateApiKey();
  return { key, minted: { keyDigest: apiKeyDigest(key), ...apiKeyDisplayParts(key) } };
}
