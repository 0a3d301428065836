import { type AgentLivenessEvent, FLEET_AGENT_ID, type MetricBatch, type RaiseAlert } from '@sb/contracts';
import { EngineInputsHandler } from './engine-inputs.handler';

function setup() {
  const seen = { metrics: [] as MetricBatch[], liveness: [] as AgentLivenessEvent[], raised: [] as RaiseAlert[], invalid: [] as string[] };
  const engine = {
    onMetrics: (b: MetricBatch) => void seen.metrics.push(b),
    onLiveness: (e: AgentLivenessEvent) => void seen.liveness.push(e),
    onRaise: (r: RaiseAlert) => void seen.raised.push(r),
  };
  return { inputs: new EngineInputsHandler(engine, (input) => seen.invalid.push(input)), seen };
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
