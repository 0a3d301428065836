import { type AgentLivenessEvent, FLEET_AGENT_ID, type MetricBatch, type RaiseAlert } from '@sb/contracts';
import { EngineInputsHandler } from './engine-inputs.handler';

function setup() {
  const seen = { metrics: [] as MetricBatch[], liveness: [] as AgentLivenessEvent[], raised: [] as RaiseAlert[], invalid: [] as string[], reserved: 0 };
  const engine = {
    onMetrics: (b: MetricBatch) => void seen.metrics.push(b),
    onLiveness: (e: AgentLivenessEvent) => void seen.liveness.push(e),
    onRaise: (r: RaiseAlert) => void seen.raised.push(r),
  };
  return { inputs: new EngineInputsHandler(engine, (input) => seen.invalid.push(input), (n) => (seen.reserved += n)), seen };
}

describe('EngineInputsHandler', () => {
  it("hands valid inputs to the engine, the collector's samples as the fleet agent", () => {
    const { inputs, seen } = setup();
    const batch = { agentId: 'w-1', samples: [{ type: 'gauge', name: 'sb_agent_cpu_percent', labels: {}, value: 5 }] };
    inputs.metrics(batch);
    inputs.fleetSamples({ ...batch, agentId: 'collector-7' });
    inputs.liveness({ agentId: 'w-1', state: 'down' });
    // An older collector's down event still listing held tasks: taken, the list dropped.
    inputs.liveness({ agentId: 'w-2', state: 'down', tasks: [{ taskId: 't1', ackSubject: '$JS.ACK.a' }] });
    inputs.raise({ name: 'X', severity: 'warning', state: 'firing', source: 'recovery' });
    expect(seen.metrics.map((b) => b.agentId)).toEqual(['w-1', FLEET_AGENT_ID]);
    const defaults = { reason: '', at: '', lastHeartbeatAt: null, host: 'unknown', capabilities: [], labels: {} };
    expect(seen.liveness).toEqual([{ agentId: 'w-1', state: 'down', ...defaults }, { agentId: 'w-2', state: 'down', ...defaults }]);
    expect(seen.raised).toEqual([{ name: 'X', severity: 'warning', state: 'firing', source: 'recovery', labels: {}, annotations: {} }]);
    expect(seen.invalid).toEqual([]);
  });

  it("takes sb_fleet_* samples only from the collector's fleet samples: elsewhere they are dropped and counted", () => {
    const { inputs, seen } = setup();
    const forged = { type: 'gauge', name: 'sb_fleet_task_error_ratio', labels: { capability: 'echo' }, value: 1 };
    const own = { type: 'gauge', name: 'sb_agent_cpu_percent', labels: {}, value: 5 };
    inputs.metrics({ agentId: 'w-1', samples: [forged, own] });
    inputs.metrics({ agentId: 'w-1', samples: [forged] });
    inputs.fleetSamples({ agentId: 'fleet', samples: [forged] });
    expect(seen.metrics.map((b) => [b.agentId, b.samples.map((x) => x.name)])).toEqual([
      ['w-1', ['sb_agent_cpu_percent']],
      [FLEET_AGENT_ID, ['sb_fleet_task_error_ratio']],
    ]);
    expect(seen.reserved).toBe(2);
  });

  it('counts a malformed or undecodable input by kind and refuses it with REQUEST.INVALID, reaching no engine', () => {
    const { inputs, seen } = setup();
    expect(() => inputs.metrics(undefined)).toThrow(expect.objectContaining({ code: 'REQUEST.INVALID' }));
    expect(() => inputs.fleetSamples({ agentId: 'fleet' })).toThrow(expect.objectContaining({ code: 'REQUEST.INVALID' }));
    expect(() => inputs.liveness({ agentId: 'w-1', state: 'sideways' })).toThrow(expect.objectContaining({ code: 'REQUEST.INVALID' }));
    expect(() => inputs.raise('not an object')).toThrow(expect.objectContaining({ code: 'REQUEST.INVALID' }));
    expect(seen.invalid).toEqual(['metrics', 'fleet', 'liveness', 'raise']);
    expect([seen.metrics, seen.liveness, seen.raised]).toEqual([[], [], []]);
  });
});
