/**
 * The capability catalog (`Buckets.capabilities`): what some agent has offered, so gateways
 * accept tasks for it (they queue until an agent is there). Written when an agent registers
 * its capabilities; one entry per capability, the latest registration's.
 */
import type { KV } from '@nats-io/kv';

const enc = new TextEncoder();

export async function offerCapabilities(kv: KV, capabilities: readonly string[], agents: readonly string[], registeredBy: string): Promise<void> {
  const at = new Date().toISOString();
  await Promise.all(capabilities.map((c) => kv.put(c, enc.encode(JSON.stringify({ capability: c, agents, lastRegisteredBy: registeredBy, at })))));
}
