/**
 * The runner against a fake control plane on a real NATS server: what goes on the wire, checked
 * message by message, including what today's control plane does not do yet (sessions, `leaseMs`
 * in the registration reply) and what is hard to provoke in a fleet (a dispatcher that vanished,
 * a lease kept alive by one dispatcher and dropped by another, the grace running out).
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { eventually, testEnv, uniquePrefix } from '@sb/testing';
import { type AbortReason, defineAgent, type Logger } from './agent';
import { PermanentError, RetryableError } from './errors';
import type { AgentFailure, LeasedTask, TakeRequest } from './protocol';
import { type Runner, runAgents, type TaskEnd } from './runner';

jest.setTimeout(30_000);

interface Seen {
  subject: string;
  body: any;
  session?: string;
  auth?: string;
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: (m, f) => console.error(m, f) };
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** Just enough of the collector and the dispatchers to run the SDK, recording every message. */
class FakeControlPlane {
  readonly seen: Seen[] = [];
  readonly queue: LeasedTask[] = [];
  /** Task ids the dispatchers no longer hold (keep-alive answers held: false). */
  readonly dropped = new Set<string>();
  private readonly pendingTakes: Array<{ msg: Msg; max: number; timer: NodeJS.Timeout }> = [];
  private epoch = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly prefix: string,
    agentId: string,
    private readonly registerReply: Record<string, unknown>,
    /** Dispatchers that answer the verbs on their leases; any other has vanished (no responders). */
    dispatchers: string[] = ['d1', 'd2'],
  ) {
    const a = `${prefix}.v1.agents`;
    this.sub(`${a}.register`, (m, body) => m.respond(enc({ agentId: body.agentId, ...this.registerReply })));
    this.sub(`${a}.heartbeat.${agentId}`);
    this.sub(`${a}.metrics.${agentId}`);
    this.sub(`${a}.deregister`);
    this.sub(`${a}.${agentId}.take`, (m, body: TakeRequest) => this.take(m, body.max, body.waitMs));
    for (const d of dispatchers) {
      this.sub(`${a}.${agentId}.keepalive.${d}`, (m, body) =>
        m.respond(enc({ leases: body.leases.map((l: { taskId: string }) => (this.dropped.has(l.taskId) ? { taskId: l.taskId, held: false, reason: 'reclaimed' } : { taskId: l.taskId, held: true })) })),
      );
      this.sub(`${a}.${agentId}.progress.${d}`, (m) => m.reply && m.respond(enc({ ok: true })));
      for (const verb of ['complete', 'fail'] as const) {
        this.sub(`${a}.${agentId}.${verb}.${d}`, (m, body) => {
          const status = verb === 'complete' ? 'succeeded' : (body.error as AgentFailure).retryable ? 'retrying' : 'failed';
          m.respond(enc({ status, ...(body.take ? { tasks: this.queue.splice(0, body.take.max) } : {}) }));
        });
      }
    }
  }

  /** Queue a task (leased by `dispatcher`); a waiting take gets it at once. */
  push(input: unknown, opts: { dispatcher?: string; capability?: string; deadlineMs?: number } = {}): LeasedTask {
    const taskId = `task-${++this.epoch}`;
    const t: LeasedTask = {
      taskId,
      tenantId: 'acme',
      capability: opts.capability ?? 'work',
      priority: 'normal',
      input,
      metadata: {},
      idempotencyKey: taskId,
      deliveryCount: 1,
      deadlineAt: new Date(Date.now() + (opts.deadlineMs ?? 60_000)).toISOString(),
      lease: { taskId, tenantId: 'acme', epoch: 1 },
      leaseExpiresAt: new Date(Date.now() + 600).toISOString(),
      dispatcher: opts.dispatcher ?? 'd1',
    };
    this.queue.push(t);
    const waiting = this.pendingTakes.shift();
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.msg.respond(enc({ tasks: this.queue.splice(0, waiting.max) }));
    }
    return t;
  }

  on(subjectEnd: string): Seen[] {
    return this.seen.filter((s) => s.subject.endsWith(subjectEnd));
  }

  /** Answer every held long-poll (empty). */
  close(): void {
    for (const p of this.pendingTakes.splice(0)) {
      clearTimeout(p.timer);
      p.msg.respond(enc({ tasks: [] }));
    }
  }

  private take(m: Msg, max: number, waitMs: number): void {
    if (this.queue.length || waitMs === 0) return void m.respond(enc({ tasks: this.queue.splice(0, max) }));
    const entry = { msg: m, max, timer: setTimeout(() => {
      this.pendingTakes.splice(this.pendingTakes.indexOf(entry), 1);
      m.respond(enc({ tasks: [] }));
    }, waitMs) };
    this.pendingTakes.push(entry);
  }

  private sub(subject: string, reply?: (m: Msg, body: any) => void): void {
    this.nc.subscribe(subject, {
      callback: (_err, m) => {
        const body = m.data.length ? m.json<any>() : undefined;
        this.seen.push({ subject: m.subject, body, session: m.headers?.get('Sb-Agent-Session') || undefined, auth: m.headers?.get('Authorization') || undefined });
        reply?.(m, body);
      },
    });
  }
}

describe('runAgents on the wire (fake control plane)', () => {
  let nc: NatsConnection;
  const runners: Runner[] = [];
  const planes: FakeControlPlane[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: testEnv().natsUrl });
  });
  afterAll(async () => {
    // Stopping first (no new takes), then answering the long-polls still held, so nobody waits them out.
    const stopped = Promise.all(runners.map((r) => r.stop()));
    for (const p of planes) p.close();
    await stopped;
    await nc.drain();
  });

  async function setup(agentId: string, agents: Parameters<typeof runAgents>[0]['agents'], opts: Partial<Parameters<typeof runAgents>[0]> = {}, registerReply: Record<string, unknown> = {}) {
    const prefix = uniquePrefix();
    const plane = new FakeControlPlane(nc, prefix, agentId, registerReply);
    planes.push(plane);
    await nc.flush();
    const runner = await runAgents({ nats: { servers: testEnv().natsUrl }, prefix, agentId, agents, heartbeatMs: 100, logger: quiet, handleSignals: false, takeWaitMs: 1_000, ...opts });
    runners.push(runner);
    await runner.ready;
    return { plane, runner, prefix };
  }

  it('sends the credentials on register and the session on every later message, and registers again when asked (same session)', async () => {
    const gate = { open: undefined as undefined | (() => void) };
    const agent = defineAgent({
      name: 'w',
      capabilities: ['work'],
      async handle(_t, ctx) {
        ctx.progress({ step: 1 });
        await new Promise<void>((r) => (gate.open = r));
        return 'ok';
      },
    });
    const { plane, runner, prefix } = await setup('sess-agent', [agent], { credentials: 'sb_key_123', concurrency: 2 }, { session: 'sess-1', leaseMs: 600 });
    expect(runner.heartbeatMode).toBe('thread');
    const [reg] = plane.on('.register');
    expect(reg).toMatchObject({ auth: 'Bearer sb_key_123', session: undefined });
    expect(reg.body).toMatchObject({ agentId: 'sess-agent', capabilities: ['work'], maxConcurrency: 2, heartbeatIntervalMs: 100, labels: {} });

    plane.push({ n: 1 });
    await eventually(() => gate.open !== undefined && plane.on('.keepalive.d1').length > 0, { description: 'running and kept alive' });
    gate.open!();
    await eventually(() => plane.on('.complete.d1').length === 1, { description: 'completed' });

    nc.publish(`${prefix}.internal.fleet.reregister.sess-agent`, enc({ agentId: 'sess-agent' }));
    await eventually(() => plane.on('.register').length === 2, { description: 'registered again' });
    expect(plane.on('.register')[1]).toMatchObject({ auth: 'Bearer sb_key_123', session: 'sess-1' });

    await runner.stop();
    const after = plane.seen.filter((s) => !s.subject.endsWith('.register'));
    for (const verb of ['.heartbeat.sess-agent', '.take', '.progress.d1', '.keepalive.d1', '.complete.d1', '.deregister']) expect(after.some((s) => s.subject.endsWith(verb))).toBe(true);
    expect(after.filter((s) => s.session !== 'sess-1')).toEqual([]);
    // Beats stop before the deregistration: nothing after it.
    expect(plane.seen.at(-1)).toMatchObject({ subject: `${prefix}.v1.agents.deregister`, body: { agentId: 'sess-agent', reason: 'shutdown' } });
    expect(plane.on('.heartbeat.sess-agent').at(-1)!.body).toMatchObject({ agentId: 'sess-agent', status: 'draining', capacity: 2 });
    expect(plane.on('.heartbeat.sess-agent')[0].body).not.toHaveProperty('tasks');
  });

  it('asks for the next task with each outcome: one round trip per task while busy', async () => {
    const agent = defineAgent({ name: 'w', capabilities: ['work'], handle: (t) => ({ done: t.taskId }) });
    const { plane } = await setup('busy-agent', [agent], { concurrency: 1 });
    await eventually(() => plane.on('.take').length === 1, { description: 'the first long-poll' });
    const tasks = [plane.push(1), plane.push(2), plane.push(3)];
    await eventually(() => plane.on('.complete.d1').length === 3, { description: 'three completed' });
    const completes = plane.on('.complete.d1').map((s) => s.body);
    expect(completes.map((c) => c.lease.taskId)).toEqual(tasks.map((t) => t.taskId));
    for (const c of completes) expect(c.take).toEqual({ max: 1, waitMs: 0 });
    // Tasks 2 and 3 came with the outcomes before them: no take in between.
    const at = (taskId: string) => plane.seen.findIndex((s) => s.subject.endsWith('.complete.d1') && s.body.lease.taskId === taskId);
    expect(plane.seen.slice(at(tasks[0].taskId), at(tasks[2].taskId)).filter((s) => s.subject.endsWith('.take'))).toEqual([]);
    expect(plane.on('.take')[0].body).toEqual({ max: 1, waitMs: 1_000 });
  });

  it('keeps leases alive in one request per dispatcher, and aborts with lost_lease when one is not held or its dispatcher is gone', async () => {
    const reasons = new Map<string, AbortReason>();
    const agent = defineAgent({
      name: 'w',
      capabilities: ['work'],
      handle: (t, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            reasons.set(t.taskId, ctx.signal.reason as AbortReason);
            resolve('aborted');
          }),
        ),
    });
    const { plane } = await setup('lease-agent', [agent], { concurrency: 8 }, { leaseMs: 600 });
    const a = plane.push(1, { dispatcher: 'd1' });
    const b = plane.push(2, { dispatcher: 'd1' });
    const c = plane.push(3, { dispatcher: 'd2' });
    const gone = plane.push(4, { dispatcher: 'vanished' });
    await eventually(() => plane.on('.keepalive.d1').some((s) => s.body.leases.length === 2) && plane.on('.keepalive.d2').length > 0, { description: 'batched keep-alives' });
    const d1 = plane.on('.keepalive.d1').find((s) => s.body.leases.length === 2)!;
    expect(d1.body.leases).toEqual(expect.arrayContaining([a.lease, b.lease]));
    expect(plane.on('.keepalive.d2')[0].body).toEqual({ leases: [c.lease] });
    await eventually(() => reasons.get(gone.taskId) === 'lost_lease', { description: 'no responders = lease lost' });

    plane.dropped.add(b.taskId);
    await eventually(() => reasons.get(b.taskId) === 'lost_lease', { description: 'held: false aborts' });
    expect(reasons.has(a.taskId)).toBe(false);
    // Lost leases are not reported.
    expect(plane.on('.complete.d1').filter((s) => s.body.lease.taskId === b.taskId)).toEqual([]);

    // Abort notices: the reason is the notice's.
    nc.publish(`${plane.prefix}.v1.agents.lease-agent.abort`, enc({ taskId: a.taskId, tenantId: 'acme', epoch: 1, reason: 'timed_out' }));
    nc.publish(`${plane.prefix}.v1.agents.lease-agent.abort`, enc({ taskId: c.taskId, tenantId: 'acme', epoch: 7, reason: 'cancelled' })); // another epoch: ignored
    await eventually(() => reasons.get(a.taskId) === 'timed_out', { description: 'abort notice' });
    expect(reasons.has(c.taskId)).toBe(false);
    nc.publish(`${plane.prefix}.v1.agents.lease-agent.abort`, enc({ taskId: c.taskId, tenantId: 'acme', epoch: 1, reason: 'cancelled' }));
    await eventually(() => reasons.get(c.taskId) === 'cancelled', { description: 'abort notice for the current epoch' });
  });

  it('aborts at the deadline with timed_out', async () => {
    let reason: unknown;
    const agent = defineAgent({ name: 'w', capabilities: ['work'], handle: (_t, ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => r((reason = ctx.signal.reason)))) });
    const { plane } = await setup('deadline-agent', [agent]);
    plane.push(1, { deadlineMs: 200 });
    await eventually(() => reason === 'timed_out', { description: 'deadline abort' });
    expect(plane.on('.complete.d1')).toEqual([]);
  });

  it('maps errors to fail bodies, and fails a task no agent accepts with AGENT.CANNOT_HANDLE', async () => {
    const agent = defineAgent<{ kind: string }>({
      name: 'w',
      capabilities: ['work'],
      canHandle: (t) => t.input.kind !== 'nobody',
      handle(t) {
        if (t.input.kind === 'retry') throw new RetryableError('dep-down', 'later', { class: 'dependency', retryAfterMs: 10 });
        if (t.input.kind === 'permanent') throw new PermanentError('INPUT.BAD', 'never');
        throw new Error('boom');
      },
    });
    const { plane } = await setup('error-agent', [agent]);
    for (const kind of ['retry', 'permanent', 'other', 'nobody']) plane.push({ kind });
    await eventually(() => plane.on('.fail.d1').length === 4, { description: 'four failures' });
    const errors = plane.on('.fail.d1').map((s) => s.body.error as AgentFailure);
    expect(errors).toEqual(
      expect.arrayContaining([
        { code: 'DEP_DOWN', message: 'later', class: 'dependency', retryable: true, retryAfterMs: 10 },
        { code: 'INPUT.BAD', message: 'never', class: 'agent_error', retryable: false },
        { code: 'AGENT.ERROR', message: 'boom', class: 'agent_error', retryable: true },
        expect.objectContaining({ code: 'AGENT.CANNOT_HANDLE', retryable: false }),
      ]),
    );
  });

  it('when the grace runs out on stop, aborts the task with shutdown and fails it retryably', async () => {
    let reason: unknown;
    const agent = defineAgent({ name: 'w', capabilities: ['work'], handle: (_t, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => (reason = ctx.signal.reason))) });
    const { plane, runner } = await setup('grace-agent', [agent], { shutdownGraceMs: 0 });
    const t = plane.push(1);
    await eventually(() => runner.inFlight === 1, { description: 'running' });
    await runner.stop();
    expect(reason).toBe('shutdown');
    expect(plane.on('.fail.d1').map((s) => s.body)).toEqual([{ lease: t.lease, error: expect.objectContaining({ code: 'AGENT.SHUTDOWN', retryable: true }) }]);
    expect(plane.seen.at(-1)!.subject.endsWith('.deregister')).toBe(true);
  });

  it('reports each attempt once: to onTaskEnd, and as cumulative metrics with the session', async () => {
    const ends: TaskEnd[] = [];
    const agent = defineAgent<{ ok: boolean }>({
      name: 'w',
      capabilities: ['work'],
      handle(t) {
        if (!t.input.ok) throw new PermanentError('INPUT.BAD', 'no');
        return 'fine';
      },
    });
    const { plane } = await setup('metrics-agent', [agent], { metricsMs: 100, onTaskEnd: (e) => ends.push(e) }, { session: 'sess-m' });
    const good = plane.push({ ok: true });
    const bad = plane.push({ ok: false });
    await eventually(() => ends.length === 2, { description: 'two attempts ended' });
    expect(ends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ taskId: good.taskId, capability: 'work', agent: 'w', outcome: 'succeeded', seconds: expect.any(Number) }),
        expect.objectContaining({ taskId: bad.taskId, outcome: 'failed' }),
      ]),
    );
    const counters = (s: Seen) => (s.body.samples as Array<{ type: string; labels: Record<string, string>; value: number }>).filter((x) => x.type === 'counter');
    await eventually(() => plane.on('.metrics.metrics-agent').some((s) => counters(s).length === 2), { description: 'a batch with both outcomes' });
    const batch = plane.on('.metrics.metrics-agent').find((s) => counters(s).length === 2)!;
    expect(batch.session).toBe('sess-m');
    expect(batch.body.agentId).toBe('metrics-agent');
    expect(counters(batch)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { capability: 'work', outcome: 'succeeded' }, value: 1 }),
        expect.objectContaining({ labels: { capability: 'work', outcome: 'failed' }, value: 1 }),
      ]),
    );
  });

  it('keeps beating through a busy handler, and stops while the event loop is stuck past stallMs', async () => {
    const blocked: { from?: number; to?: number } = {};
    const agent = defineAgent({
      name: 'w',
      capabilities: ['work'],
      handle() {
        blocked.from = Date.now();
        while (Date.now() - blocked.from < 3_000) {
          // a hung loop: nothing else on this thread runs
        }
        blocked.to = Date.now();
        return 'unstuck';
      },
    });
    const { plane } = await setup('stall-agent', [agent], { stallMs: 1_500 });
    plane.push(1);
    await eventually(() => plane.on('.complete.d1').length === 1, { description: 'the stuck task finished' });
    const beats = plane.on('.heartbeat.stall-agent').map((s) => s.body.sentAt as number);
    const { from, to } = blocked as { from: number; to: number };
    // Busy for less than stallMs: the thread still beats.
    expect(beats.some((t) => t > from + 150 && t < from + 1_100)).toBe(true);
    // Stuck for longer: no beat from stallMs (plus the thread's tick granularity) until the loop turns again.
    expect(beats.filter((t) => t > from + 1_500 + 250 && t < to - 50)).toEqual([]);
    // And beats resume afterwards.
    await eventually(() => plane.on('.heartbeat.stall-agent').some((s) => s.body.sentAt > to), { description: 'beats resume' });
  });

  it('beats from the main thread when told to, and uses a connection it is given without closing it', async () => {
    const own = await connect({ servers: testEnv().natsUrl });
    const agent = defineAgent({ name: 'w', capabilities: ['work'], handle: () => 'ok' });
    const { plane, runner } = await setup('main-beat-agent', [agent], { nats: own, heartbeatThread: false });
    expect(runner.heartbeatMode).toBe('main');
    await eventually(() => plane.on('.heartbeat.main-beat-agent').length >= 2, { description: 'beats' });
    await runner.stop();
    expect(own.isClosed()).toBe(false);
    await own.close();
  });
});
