/**
 * Many agents, simulated cheaply from the test process: plain NATS messages, as the agent SDK
 * sends them (docs/agent-protocol.md). `register` carries the agent key as `Authorization`;
 * the reply's session then goes with every heartbeat in `Sb-Agent-Session`. No tasks are taken:
 * these agents only exist, beat, and stop beating.
 */
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { names } from '@sb/contracts';

export interface SimulatedAgent {
  agentId: string;
  host: string;
  session?: string;
  seq: number;
}

export class SimulatedAgents {
  readonly agents: SimulatedAgent[];
  private readonly n: ReturnType<typeof names>;
  private timer?: NodeJS.Timeout;
  private readonly enc = new TextEncoder();
  /** Heartbeat rounds sent so far (each round: one beat per registered agent). */
  rounds = 0;

  constructor(
    private readonly nc: NatsConnection,
    prefix: string,
    private readonly key: string,
    specs: Array<{ agentId: string; host: string }>,
    private readonly heartbeatIntervalMs = 1_000,
  ) {
    this.n = names(prefix);
    this.agents = specs.map((s) => ({ ...s, seq: 0 }));
  }

  /** Register every agent, `concurrency` requests at a time; rejects with the first refusal. */
  async register(concurrency = 64): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < this.agents.length) {
        const a = this.agents[next++];
        const h = natsHeaders();
        h.set('Authorization', `Bearer ${this.key}`);
        const body = { agentId: a.agentId, capabilities: ['mass-failure'], maxConcurrency: 1, host: a.host, version: 'sim-1', heartbeatIntervalMs: this.heartbeatIntervalMs };
        const reply = await this.nc.request(this.n.agents.register, this.enc.encode(JSON.stringify(body)), { headers: h, timeout: 30_000 });
        const code = reply.headers?.get('Nats-Service-Error-Code');
        if (code) throw new Error(`register ${a.agentId}: ${code} ${reply.string()}`);
        a.session = reply.json<{ session: string }>().session;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** One heartbeat from every registered agent, all in one go (so their deadlines are the same). */
  beatOnce(): void {
    const now = Date.now();
    for (const a of this.agents) {
      if (!a.session) continue;
      const h = natsHeaders();
      h.set('Sb-Agent-Session', a.session);
      const hb = { agentId: a.agentId, seq: a.seq++, sentAt: now, status: 'ready', inFlight: 0, capacity: 1 };
      this.nc.publish(this.n.agents.heartbeat(a.agentId), this.enc.encode(JSON.stringify(hb)), { headers: h });
    }
    this.rounds += 1;
  }

  /** Beat every `heartbeatIntervalMs`: each agent from the round after its registration on. */
  startBeating(): void {
    this.beatOnce();
    this.timer = setInterval(() => this.beatOnce(), this.heartbeatIntervalMs);
  }

  /** Every agent stops at once, as if the whole fleet lost power. */
  stopBeating(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
