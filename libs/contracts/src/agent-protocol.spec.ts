/** Agent protocol v1 contracts: subjects that cannot collide, and bodies refused before anything changes. */
import { AgentEndpoints, CompleteRequestSchema, FailRequestSchema, TakeRequestSchema } from './agent-protocol';
import { AgentIdSchema } from './fleet-schemas';
import { AGENT_VERBS, names } from './subjects';

const n = names('sb');
const lease = { taskId: 'tsk_1', tenantId: 'acme', epoch: 2 };

describe('agent protocol v1 contracts', () => {
  it('reserves every verb as an agent id, so `<prefix>.v1.agents.*.<verb>` never matches another subject', () => {
    for (const verb of AGENT_VERBS) expect(AgentIdSchema.safeParse(verb).success).toBe(false);
    expect(AgentIdSchema.safeParse('worker-1').success).toBe(true);
  });

  it('serves take on a shared subject and the lease verbs on the granting dispatcher’s own', () => {
    const self = { service: 'gateway', instanceId: 'gw7' };
    expect(AgentEndpoints.take.subject(n, self)).toBe('sb.v1.agents.*.take');
    expect(AgentEndpoints.complete.subject(n, self)).toBe('sb.v1.agents.*.complete.gw7');
    expect(AgentEndpoints.keepAlive.subject(n, self)).toBe('sb.v1.agents.*.keepalive.gw7');
    expect(n.agents.work('worker-1', 'complete', 'gw7')).toBe('sb.v1.agents.worker-1.complete.gw7');
  });

  it('defaults a take to one task without waiting, and bounds the batch and the wait', () => {
    expect(TakeRequestSchema.parse({})).toEqual({ max: 1, waitMs: 0 });
    expect(TakeRequestSchema.safeParse({ max: 257 }).success).toBe(false);
    expect(TakeRequestSchema.safeParse({ waitMs: 30_001 }).success).toBe(false);
    expect(TakeRequestSchema.safeParse({ max: 1, surprise: true }).success).toBe(false);
  });

  it('needs a whole lease on an outcome, and an agent may report only its own error classes', () => {
    expect(CompleteRequestSchema.safeParse({ lease, result: { ok: true } }).success).toBe(true);
    expect(CompleteRequestSchema.safeParse({ lease: { taskId: 'tsk_1', epoch: 2 }, result: 1 }).success).toBe(false);
    const error = { code: 'AGENT.BUSY', message: 'try later', class: 'rate_limited', retryable: true, retryAfterMs: 5_000 };
    expect(FailRequestSchema.parse({ lease, error }).error.class).toBe('rate_limited');
    expect(FailRequestSchema.safeParse({ lease, error: { ...error, class: 'worker_lost' } }).success).toBe(false);
    expect(FailRequestSchema.safeParse({ lease, error: { ...error, code: 'lower case' } }).success).toBe(false);
  });
});
