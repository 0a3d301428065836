/**
 * The capability catalog entries that tell gateways these capabilities exist. (The worker's
 * queue consumers are declared in libs/contracts topology.ts, `Durables.taskQueue`.)
 */
import type { KV } from '@nats-io/kv';

export async function registerCapabilities(kv: KV, capabilities: string[], agents: string[], workerId: string): Promise<void> {
  const at = new Date().toISOString();
  await Promise.all(capabilities.map((c) => kv.put(c, new TextEncoder().encode(JSON.stringify({ capability: c, agents, lastRegisteredBy: workerId, at })))));
}
