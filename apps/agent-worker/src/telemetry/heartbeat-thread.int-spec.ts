/**
 * The heartbeat thread against real NATS: it keeps beating while the main event loop is
 * blocked by synchronous work (busy is not dead), and stops when the main loop has not handed
 * it a heartbeat for longer than the stall limit (hung is dead).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Heartbeat } from '@sb/contracts';
import { collectMessages, testEnv, uniquePrefix, waitForMessage } from '@sb/testing';
import { ThreadHeartbeatSender } from './heartbeat-sender';

/** Synchronous CPU work, as an agent parsing a large input does. */
function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) Math.sqrt(Math.random());
}

describe('heartbeat thread', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(() => nc.drain());

  const hb: Heartbeat = { agentId: 'w1', seq: 0, status: 'ready', inFlight: 1, capacity: 2, tasks: [{ taskId: 't1', tenantId: 'tn', capability: 'echo' }] };

  it('beats on time while the main loop is blocked, with fresh sequence numbers and the latest content', async () => {
    const subject = `${uniquePrefix()}.v1.agents.heartbeat.w1`;
    const beats = collectMessages<Heartbeat>(nc, subject);
    await beats.ready;
    const sender = await ThreadHeartbeatSender.start({ natsServers: [testEnv().natsUrl], name: 'hb-test', subject, intervalMs: 100, stallMs: 5_000, memoryLimitBytes: 1e9 });
    try {
      sender.update(hb, true);
      await beats.waitForCount(1);
      const start = Date.now();
      blockFor(1_200);
      const end = Date.now();
      await beats.waitForCount(12);
      const during = beats.messages.filter((m) => m.data.sentAt! > start && m.data.sentAt! < end);
      expect(during.length).toBeGreaterThanOrEqual(8);
      const seqs = beats.messages.map((m) => m.data.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(during[0].data).toMatchObject({ agentId: 'w1', inFlight: 1, tasks: hb.tasks, memoryPercent: expect.any(Number), cpuPercent: expect.any(Number) });
    } finally {
      await sender.close();
      await beats.stop();
    }
  });

  it('stops beating when the main loop has stalled past the limit, and resumes when it hands over again', async () => {
    const subject = `${uniquePrefix()}.v1.agents.heartbeat.w1`;
    const beats = collectMessages<Heartbeat>(nc, subject);
    await beats.ready;
    const sender = await ThreadHeartbeatSender.start({ natsServers: [testEnv().natsUrl], name: 'hb-test', subject, intervalMs: 100, stallMs: 400, memoryLimitBytes: 1e9 });
    try {
      sender.update(hb, true);
      const updatedAt = Date.now();
      blockFor(1_500);
      const unblocked = Date.now();
      const resumed = waitForMessage<Heartbeat>(nc, subject, { filter: (m) => m.data.sentAt! >= unblocked, timeoutMs: 5_000 });
      await resumed.ready;
      sender.update({ ...hb, inFlight: 0, tasks: [] });
      expect((await resumed).data).toMatchObject({ inFlight: 0, tasks: [] });
      const late = beats.messages.filter((m) => m.data.sentAt! > updatedAt + 600 && m.data.sentAt! < unblocked);
      expect(late).toHaveLength(0);
      expect(beats.messages.filter((m) => m.data.sentAt! < unblocked).length).toBeGreaterThanOrEqual(2);
    } finally {
      await sender.close();
      await beats.stop();
    }
  });
});
