import type { AlertEvent } from '@sb/contracts';
import { AlertLinker } from './alert-linker.handler';
import { IncidentLog } from './incident-log';
import { MemoryIncidentStore } from './incident-store';

const alert = (fingerprint: string, labels: Record<string, string>): AlertEvent =>
  ({ fingerprint, name: 'AgentDown', severity: 'critical', state: 'firing', labels, annotations: {}, source: 'rule', value: null, startsAt: '', endsAt: null, at: '', acknowledgedBy: null, ackExpiresAt: null, escalation: null }) as AlertEvent;

describe('AlertLinker', () => {
  it('links a burst of alerts reading the open incidents once, not once per alert', async () => {
    const store = new MemoryIncidentStore();
    const log = new IncidentLog(store);
    const reads = jest.spyOn(store, 'listOpen');
    for (let i = 0; i < 300; i++) await log.open('agent_down', `agent:a${i}`, `a${i} down`, { agent: `a${i}`, capability: 'echo' });
    const capability = await log.open('degraded', 'degraded:echo', 'shedding', { capability: 'echo' });
    const linker = new AlertLinker(log, { isLeader: () => true }, () => 0);

    const linked = await Promise.all(Array.from({ length: 300 }, (_, i) => linker.onAlert(alert(`fp${i}`, { agent: `a${i}`, alertname: 'AgentDown' }))));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(linked.every((ids) => ids.length === 1)).toBe(true);
    expect((await log.openFor('agent:a7'))?.alerts).toEqual(['fp7']);
    expect((await log.get(capability.id))?.alerts).toEqual([]); // an alert naming an agent is that agent's

    // An alert about the capability alone links to every incident about it.
    expect((await linker.onAlert(alert('fp-cap', { capability: 'echo', alertname: 'TaskErrorRatioHigh' }))).length).toBe(301);
  });

  it("knows the incidents its own log opens since the read, and finds an agent's incident another replica opened by its key", async () => {
    const store = new MemoryIncidentStore();
    const log = new IncidentLog(store);
    const reads = jest.spyOn(store, 'listOpen');
    const linker = new AlertLinker(log, { isLeader: () => true }, () => 0);
    expect(await linker.onAlert(alert('fp0', { agent: 'late' }))).toEqual([]);
    const mine = await log.open('degraded', 'degraded:echo', 'shedding', { capability: 'echo' });
    expect(await linker.onAlert(alert('fp1', { capability: 'echo' }))).toEqual([mine.id]);
    const theirs = await new IncidentLog(store).open('agent_down', 'agent:late', 'late down', { agent: 'late' });
    expect(await linker.onAlert(alert('fp2', { agent: 'late' }))).toEqual([theirs.id]);
    expect(reads).toHaveBeenCalledTimes(1);
    // A resolved incident is forgotten at once.
    await log.resolve(mine.id, 'cleared');
    expect(await linker.onAlert(alert('fp3', { capability: 'echo' }))).toEqual([]);
  });

  it('does nothing on a follower, or for a body that is not an alert', async () => {
    const log = new IncidentLog(new MemoryIncidentStore());
    await log.open('agent_down', 'agent:x', 'x down', { agent: 'x' });
    expect(await new AlertLinker(log, { isLeader: () => false }).onAlert(alert('fp', { agent: 'x' }))).toEqual([]);
    expect(await new AlertLinker(log, { isLeader: () => true }).onAlert(undefined)).toEqual([]);
  });
});
