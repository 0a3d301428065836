/** The intake guard following a real resilience bucket: refusals start and stop with the leader's states. */
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { IntakeGuard } from './intake-guard';

describe('IntakeGuard on the resilience bucket', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let nc: NatsConnection;
  afterAll(async () => {
    await cleanupJetStream(nc, prefix);
    await nc.drain();
  });

  const codeOf = (fn: () => void): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (e) {
      return (e as { code: string }).code;
    }
  };

  it('learns existing states at start and follows changes', async () => {
    nc = await connect({ servers: testEnv().natsUrl });
    const kv = await new Kvm(nc).create(n.resilience.bucket);
    const open = { scope: 'capability', key: 'ocr', capability: 'ocr', agentId: null, state: 'open', since: new Date().toISOString(), retryAt: new Date(Date.now() + 60_000).toISOString(), reason: 'all_agents_open', failures: 5, attempts: 5, consecutive: 0, probes: 1, epoch: 1 };
    await kv.put('breaker.capability.ocr', JSON.stringify(open));
    const guard = new IntakeGuard({ halfOpenAdmits: 1, staleGraceMs: 30_000 });
    await guard.watch(kv);
    await eventually(() => codeOf(() => guard.check('ocr', 'high')) === 'RECOVERY.CAPABILITY_UNAVAILABLE', { description: 'open breaker known at start' });
    const shed = { capability: 'ocr', level: 'low', shedding: ['low'], reason: 'deficit', freeCapacity: 0, pending: 9, pendingByPriority: { high: 0, normal: 9, low: 0 }, agentsUp: 1, since: '', updatedAt: '', expiresAt: new Date(Date.now() + 60_000).toISOString(), retryAfterS: 3, epoch: 1 };
    await kv.put('breaker.capability.ocr', JSON.stringify({ ...open, state: 'closed', retryAt: null }));
    await kv.put('shed.ocr', JSON.stringify(shed));
    await eventually(() => codeOf(() => guard.check('ocr', 'low')) === 'RECOVERY.LOAD_SHED', { description: 'shedding followed' });
    expect(codeOf(() => guard.check('ocr', 'normal'))).toBeUndefined();
    await kv.delete('shed.ocr');
    await eventually(() => codeOf(() => guard.check('ocr', 'low')) === undefined, { description: 'cleared' });
    guard.stop();
  });
});
