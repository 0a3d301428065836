/**
 * What the dispatcher knows of agents: the capabilities each registered, read from the
 * collector's registry (`Buckets.agents`, watched: current records, then every change). An agent
 * that left, or never registered, has none and is handed nothing.
 */
import type { KV } from '@nats-io/kv';
import { agentSessionMatches, tryDecode } from '@sb/messaging';

interface RegistryView {
  registration?: { agentId?: unknown; capabilities?: unknown };
  registeredAt?: unknown;
  left?: unknown;
  sessionHash?: unknown;
}

interface Known {
  capabilities: readonly string[];
  /** When the collector registered it (its clock, ms). */
  registeredAt: number;
  sessionHash?: string;
  /** The last session that matched (so a verb costs a hash only when the session changes). */
  verified?: string;
}

export class AgentRoster {
  private readonly agents = new Map<string, Known>();
  private stopWatch?: () => void;

  constructor(private readonly kv: KV) {}

  /** The agent's registered capabilities; on a miss the registry itself (a registration the watch has not delivered yet). */
  async capabilitiesOf(agentId: string): Promise<readonly string[] | undefined> {
    return (this.agents.get(agentId) ?? (await this.reread(agentId)))?.capabilities;
  }

  /** When the agent last registered (the collector's clock, ms), as far as the watch has delivered; 0 when unknown. */
  registeredAt(agentId: string): number {
    return this.agents.get(agentId)?.registeredAt ?? 0;
  }

  /** Whether `session` is the agent's current one; on a mismatch the registry is read once (a registration the watch has not delivered yet). */
  async sessionMatches(agentId: string, session: string | undefined): Promise<boolean> {
    if (!session) return false;
    let a = this.agents.get(agentId);
    if (a?.verified === session) return true;
    if (!a || !agentSessionMatches(session, a.sessionHash)) a = await this.reread(agentId);
    if (!a || !agentSessionMatches(session, a.sessionHash)) return false;
    a.verified = session;
    return true;
  }

  private async reread(agentId: string): Promise<Known | undefined> {
    const e = await this.kv.get(agentId).catch(() => null);
    if (e?.operation === 'PUT') this.apply(agentId, tryDecode(e.value, 1024 * 1024) as RegistryView | undefined);
    return this.agents.get(agentId);
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
        if (e.operation !== 'PUT') this.agents.delete(e.key);
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
    if (rec?.left === true || !Array.isArray(caps)) return void this.agents.delete(key);
    const sessionHash = typeof rec?.sessionHash === 'string' ? rec.sessionHash : undefined;
    const registeredAt = typeof rec?.registeredAt === 'number' ? rec.registeredAt : 0;
    this.agents.set(key, { capabilities: caps.filter((c): c is string => typeof c === 'string'), registeredAt, sessionHash });
  }
}
