/**
 * Many agents down at once, on real NATS with a manual clock (test/chaos/mass-failure.chaos-spec.ts
 * runs the whole service with 2,000): under the default rules, each agent's alert is written once
 * (every write attempt is seen on the wire: no compare-and-set storm while the first writes are in
 * flight), and they page as one group in one notification that lists 200 and counts the rest.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { cleanupJetStream, collectMessages, testEnv, uniquePrefix } from '@sb/testing';
import { MAX_ALERTS_PER_NOTIFICATION } from './group-notifier';
import { MemoryOutbox, startTestEngine, type TestEngine } from './engine.fixture';

const AGENTS = 300;

describe('alerting engine: a mass failure', () => {
  let nc: NatsConnection;
  let e: TestEngine | undefined;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    e?.stop();
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  it('writes each alert once and pages one group, however many agents (each on its own host) go down together', async () => {
    e = await startTestEngine(nc, prefix);
    expect(await e.config.seedDefaults()).toBeGreaterThan(0);
    const writes = collectMessages(nc, `$KV.${names(prefix).alerting.stateBucket}.>`);
    await writes.ready;

    // As the collector's sweep announces them: all in one go.
    for (let i = 0; i < AGENTS; i++) {
      e.engine.onLiveness({ agentId: `a${i}`, state: 'down', reason: 'missed_heartbeats', at: '', lastHeartbeatAt: null, host: `pod-${i}`, capabilities: [], labels: {} });
    }
    await e.engine.settle();
    expect(e.sink.of('firing', 'AgentDown')).toHaveLength(AGENTS);
    await nc.flush();
    expect(writes.messages).toHaveLength(AGENTS);

    await e.step(10_000); // past the default rule's group wait
    const out = e.outbox as MemoryOutbox;
    const pages = out.list.filter((n) => n.groupLabels.alertname === 'AgentDown');
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ kind: 'firing', groupLabels: { alertname: 'AgentDown' }, truncatedAlerts: AGENTS - MAX_ALERTS_PER_NOTIFICATION });
    expect(pages[0].alerts).toHaveLength(MAX_ALERTS_PER_NOTIFICATION);
    await writes.stop();
  });
});
