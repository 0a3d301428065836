/** The local adapter asks the launcher over NATS; here a responder plays the launcher's part. */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { names } from '@sb/contracts';
import { testEnv, uniquePrefix } from '@sb/testing';
import { LocalRuntimeAdapter } from './local-runtime.adapter';

describe('LocalRuntimeAdapter', () => {
  let nc: NatsConnection;
  const n = names(uniquePrefix());
  const request = async (subject: string, body: unknown) => JSON.parse(new TextDecoder().decode((await nc.request(subject, JSON.stringify(body), { timeout: 2_000 })).data));

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(() => nc?.close());

  it('asks the launcher to restart the agent and reports what it did', async () => {
    const seen: unknown[] = [];
    const sub = nc.subscribe(n.runtime.localRestart, {
      callback: (_e, m) => {
        seen.push(JSON.parse(new TextDecoder().decode(m.data)));
        m.respond(JSON.stringify({ action: 'killed agent-worker pid 42; the launcher starts a new one' }));
      },
    });
    const adapter = new LocalRuntimeAdapter({ request, restartSubject: n.runtime.localRestart });
    // Every local worker is one pool, whatever its registration says: the launcher knows its own processes.
    const target = await adapter.locate({ agentId: 'vm-42', host: 'vm', labels: { pool: 'fresh' } });
    expect(target).toEqual({ agentId: 'vm-42', pool: 'local', name: 'vm-42' });
    const r = await adapter.restart(target);
    expect(r).toEqual({ action: 'killed agent-worker pid 42; the launcher starts a new one', alreadyGone: false });
    await adapter.replace(target);
    expect(seen).toEqual([
      { agentId: 'vm-42', mode: 'restart' },
      { agentId: 'vm-42', mode: 'replace' },
    ]);
    sub.unsubscribe();
  });

  it('fails when no launcher answers or the answer is unusable, and refuses to scale', async () => {
    const adapter = new LocalRuntimeAdapter({ request, restartSubject: n.runtime.localRestart });
    const target = await adapter.locate({ agentId: 'a1', host: 'h', labels: {} });
    await expect(adapter.restart(target)).rejects.toThrow();
    const sub = nc.subscribe(n.runtime.localRestart, { callback: (_e, m) => void m.respond(JSON.stringify({ nope: true })) });
    await expect(adapter.restart(target)).rejects.toThrow('no usable answer');
    sub.unsubscribe();
    await expect(adapter.scale('pool')).rejects.toThrow('not supported');
  });
});
