/**
 * The breaker gate against a real resilience bucket: one watch follows every agent's breakers
 * (the states already stored first, then each change), wakes the agent whose breaker closes or
 * goes half-open, and treats a deleted (forgotten) breaker as closed; a watch for one agent
 * sees only that agent's.
 */
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type BreakerState, names } from '@sb/contracts';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { BreakerGate } from './breaker-gate';

const state = (agentId: string, capability: string, s: BreakerState['state'], probes = 1): BreakerState => ({
  scope: 'agent', key: `${agentId}.${capability}`, capability, agentId, state: s, since: new Date().toISOString(), retryAt: null, reason: null, failures: 0, attempts: 0, consecutive: 0, probes, epoch: 1,
});

describe('BreakerGate over the resilience bucket', () => {
  const prefix = uniquePrefix();
  let nc: NatsConnection;
  let kv: KV;
  const gates: BreakerGate[] = [];
  const put = (agentId: string, capability: string, s: BreakerState['state'], probes = 1) => kv.put(`breaker.agent.${agentId}.${capability}`, JSON.stringify(state(agentId, capability, s, probes)));

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    kv = await new Kvm(nc).create(names(prefix).resilience.bucket);
  });
  afterAll(async () => {
    for (const g of gates) g.stop();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('one watch for every agent: stored states first, then changes; wakes only the agent whose breaker opened up', async () => {
    await put('a1', 'llm', 'open');
    await put('a2', 'llm', 'half_open', 2);
    await kv.put('breaker.capability.llm', JSON.stringify(state('a1', 'llm', 'open'))); // not an agent breaker: ignored
    const woken: string[] = [];
    const gate = new BreakerGate((agentId, capability) => woken.push(`${agentId}/${capability}`));
    gates.push(gate);
    await gate.watch(kv);
    await eventually(() => expect([gate.allow('a1', 'llm', 5), gate.allow('a2', 'llm', 5)]).toEqual([0, 2]));
    expect(gate.allow('a3', 'llm', 5)).toBe(5);

    await put('a1', 'echo', 'open');
    await eventually(() => expect(gate.blocked('a1').sort()).toEqual(['echo', 'llm']));
    woken.length = 0;
    await put('a1', 'llm', 'closed');
    await eventually(() => expect(woken).toEqual(['a1/llm']));
    expect(gate.allow('a1', 'llm', 5)).toBe(5);
    await kv.delete('breaker.agent.a1.echo');
    await eventually(() => expect(gate.allow('a1', 'echo', 3)).toBe(3));
    expect(woken).toEqual(['a1/llm', 'a1/echo']);
    expect(gate.allow('a2', 'llm', 5)).toBe(2);
  });

  it("a watch for one agent sees only that agent's breakers", async () => {
    await put('solo', 'llm', 'open');
    await put('other', 'llm', 'open');
    const gate = new BreakerGate();
    gates.push(gate);
    await gate.watch(kv, 'solo');
    await eventually(() => expect(gate.allow('solo', 'llm', 1)).toBe(0));
    await put('other', 'echo', 'open');
    await put('solo', 'echo', 'open');
    await eventually(() => expect(gate.allow('solo', 'echo', 1)).toBe(0));
    expect(gate.allow('other', 'llm', 1)).toBe(1);
    expect(gate.allow('other', 'echo', 1)).toBe(1);
  });
});
