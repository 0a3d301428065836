/**
 * What the dispatcher knows of agents: the capabilities each registered, read from the
 * collector's registry (`Buckets.agents`, watched: current records, then every change). An agent
 * that left, or never registered, has none and is handed nothing.
 */
import type { KV } from '@nats-io/kv';
import { tryDecode } from '@sb/messaging';

interface RegistryView {
  registration?: { agentId?: unknown; capabilities?: unknown };
  left?: unknown;
}

export class AgentRoster {
  private readonly capabilities = new Map<string, readonly string[]>();
  private stopWatch?: () => void;

  constructor(private readonly kv: KV) {}

  /** The agent's registered capabilities; on a miss the registry itself (a registration the watch has not delivered yet). */
  async capabilitiesOf(agentId: string): Promise<readonly string[] | undefined> {
    const known = this.capabilities.get(agentId);
    if (known) return known;
    const e = await this.kv.get(agentId).catch(() => null);
    if (e?.operation === 'PUT') this.apply(agentId, tryDecode(e.value, 1024 * 1024) as RegistryView | undefined);
    return this.capabilities.get(agentId);
  }

  /** Resolves once the current records are read; changes keep coming until `stop()`. */
  async start(): Promise<void> {
    const w = await this.kv.watch();
    this.stopWatch = () => w.stop();
    let ready!: () => void;
    const loaded = new Promise<void>((r) => (ready = r));
    if ((await this.kv.status()).values === 0) ready();
    void (async () => {
      for await (const e of w) {
        if (e.operation !== 'PUT') this.capabilities.delete(e.key);
        else this.apply(e.key, tryDecode(e.value, 1024 * 1024) as RegistryView | undefined);
        if (e.delta === 0) ready();
      }
      ready();
    })();
    await loaded;
  }

  stop(): void {
    this.stopWatch?.();
  }

  private apply(key: string, rec: RegistryView | undefined): void {
    const caps = rec?.registration?.capabilities;
    if (rec?.left === true || !Array.isArray(caps)) this.capabilities.delete(key);
    else this.capabilities.set(key, caps.filter((c): c is string => typeof c === 'string'));
  }
}
