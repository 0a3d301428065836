/**
 * The TypeScript agent SDK (packages/agent-sdk) against a whole fleet, checked only through the
 * public HTTP API and the public liveness events: agents written with `defineAgent` and run by
 * `runAgents` register, take leased tasks, report progress and outcomes, retry and fail as their
 * errors say, stop when a task is cancelled, drain on stop, and keep beating while a handler
 * blocks the event loop (heartbeats come from a thread of their own).
 *
 * The agents run in this process, from source, except the one whose handler blocks: it runs in
 * a worker thread (from the build, `npm run build`), so the collector in this thread keeps
 * judging liveness while that agent's event loop is stuck, as it would on another machine.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type AbortReason, defineAgent, type Logger, PermanentError, RetryableError, type Runner, runAgents } from '@switchboard/agent-sdk';
import { collectMessages, eventually, testEnv } from '@sb/testing';
import { startCollector } from './support/collector';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';

jest.setTimeout(90_000);

const REPO = join(__dirname, '../..');
const BUILT = join(REPO, 'dist/packages/agent-sdk/src');
const BUILT_SDK = join(BUILT, 'index.js');
const SDK_SOURCES = join(REPO, 'packages/agent-sdk/src');

/** A promise to resolve from outside. */
function latch<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Latches by name, created by whichever side asks first (the test or a handler). */
class Latches<T = unknown> {
  private readonly m = new Map<string, ReturnType<typeof latch<T>>>();
  get(name: string) {
    let l = this.m.get(name);
    if (!l) this.m.set(name, (l = latch<T>()));
    return l;
  }
  wait = (name: string) => this.get(name).promise;
  fire = (name: string, v: T) => this.get(name).resolve(v);
}

/** Keeps the SDK's log lines; errors are printed at once. */
function testLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string, f?: Record<string, unknown>) => {
    const line = `${level} ${m} ${f ? JSON.stringify(f) : ''}`;
    lines.push(line);
    if (level === 'error') console.error(`[agent-sdk] ${line}`);
  };
  return { lines, info: add('info'), warn: add('warn'), error: add('error') };
}

describe('agent SDK (TypeScript) in a fleet', () => {
  let fleet: Fleet;
  let key: string;
  let tenantId: string;
  let runner: Runner;
  const log = testLogger();
  const started = new Latches<{ task: any; lease: unknown; idempotencyKey: string; deliveryCount: number }>();
  const release = new Latches<void>();
  const aborted = new Latches<AbortReason>();

  const submit = (capability: string, input: unknown, opts: { wait?: boolean; headers?: Record<string, string>; metadata?: Record<string, unknown> } = {}) =>
    http(fleet.httpUrl, 'POST', '/v1/tasks', { key, headers: opts.headers, body: { capability, input, wait: opts.wait ?? false, ...(opts.metadata ? { metadata: opts.metadata } : {}) } });
  const task = async (taskId: string) => (await http(fleet.httpUrl, 'GET', `/v1/tasks/${taskId}`, { key })).body;

  const summarizer = defineAgent<{ id: string; text: string }>({
    name: 'summarizer',
    capabilities: ['summarize'],
    async handle(t, ctx) {
      started.fire(t.input.id, { task: t, lease: ctx.lease, idempotencyKey: ctx.idempotencyKey, deliveryCount: ctx.deliveryCount });
      ctx.progress({ pct: 50 });
      await release.wait(t.input.id);
      return { summary: t.input.text.toUpperCase() };
    },
  });
  const flaky = defineAgent({
    name: 'flaky',
    capabilities: ['flaky'],
    handle(t) {
      if (t.deliveryCount === 1) throw new RetryableError('UPSTREAM.BUSY', 'the upstream is busy', { class: 'rate_limited', retryAfterMs: 50 });
      return { deliveryCount: t.deliveryCount };
    },
  });
  const refuser = defineAgent<{ code: string }>({
    name: 'refuser',
    capabilities: ['refuse'],
    handle(t) {
      throw new PermanentError(t.input.code, 'this input can never work');
    },
  });
  const english = defineAgent<{ lang: string }>({ name: 'english', capabilities: ['translate'], canHandle: (t) => t.input.lang === 'en', handle: () => ({ by: 'english' }) });
  const european = defineAgent<{ lang: string }>({ name: 'european', capabilities: ['translate'], canHandle: (t) => ['en', 'fr', 'de'].includes(t.input.lang), handle: () => ({ by: 'european' }) });
  const cancellable = defineAgent<{ id: string }>({
    name: 'cancellable',
    capabilities: ['cancellable'],
    async handle(t, ctx) {
      const reason = new Promise<AbortReason>((resolve) => ctx.signal.addEventListener('abort', () => resolve(ctx.signal.reason as AbortReason), { once: true }));
      started.fire(t.input.id, { task: t, lease: ctx.lease, idempotencyKey: ctx.idempotencyKey, deliveryCount: ctx.deliveryCount });
      aborted.fire(t.input.id, await reason);
      return 'too late';
    },
  });

  beforeAll(async () => {
    fleet = await startFleet({ workers: 0, collectorEnv: false, gatewayEnv: { TASK_BACKOFF_BASE_MS: '50', TASK_BACKOFF_MAX_MS: '100' } });
    await startCollector(fleet, { LIVENESS_SWEEP_MS: '100', LIVENESS_MISSED_BEATS: '3' });
    ({ key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey));
    runner = await runAgents({
      nats: { servers: fleet.env.NATS_URL },
      natsCreds: fleet.agentCreds,
      prefix: fleet.prefix,
      credentials: fleet.agentKey,
      agentId: 'sdk-main',
      agents: [summarizer, flaky, refuser, english, european, cancellable],
      concurrency: 8,
      heartbeatMs: 200,
      logger: log,
      handleSignals: false,
    });
    await runner.ready;
  });
  afterAll(async () => {
    await runner?.stop();
    await fleet?.stop();
  });

  it('runs a task to success with the handler’s result, and its progress reaches the task', async () => {
    const reply = submit('summarize', { id: 'ok', text: 'hello' }, { wait: true, headers: { 'Idempotency-Key': 'sdk-e2e-ok' }, metadata: { source: 'e2e' } });
    const seen = await started.wait('ok');
    const taskId = seen.task.taskId as string;
    expect(seen.task).toEqual({
      taskId,
      tenantId,
      capability: 'summarize',
      priority: 'normal',
      input: { id: 'ok', text: 'hello' },
      metadata: { source: 'e2e' },
      idempotencyKey: 'sdk-e2e-ok',
      deliveryCount: 1,
      deadlineAt: expect.any(String),
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/),
    });
    expect(seen).toMatchObject({ lease: { taskId, tenantId, epoch: 1 }, idempotencyKey: 'sdk-e2e-ok', deliveryCount: 1 });
    // The progress the handler sent is on the running task.
    const running = await eventually(async () => {
      const t = await task(taskId);
      return t.progress?.pct === 50 ? t : false;
    }, { timeoutMs: 10_000, description: 'progress on the task' });
    expect(running).toMatchObject({ status: 'running', agentId: 'sdk-main', progress: { pct: 50 } });
    release.fire('ok');
    const done = await reply;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ taskId, status: 'succeeded', result: { summary: 'HELLO' }, agentId: 'sdk-main', attempts: 1 });
  });

  it('retries a RetryableError and succeeds on the second delivery', async () => {
    const done = await submit('flaky', { n: 1 }, { wait: true });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'succeeded', result: { deliveryCount: 2 }, attempts: 2 });
  });

  it('fails the task with a PermanentError’s code (sanitized when it does not fit), without retries', async () => {
    const done = await submit('refuse', { code: 'INPUT.UNSUPPORTED' }, { wait: true });
    expect(done.body).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'INPUT.UNSUPPORTED', message: 'this input can never work', retryable: false } });
    const odd = await submit('refuse', { code: 'input unsupported!' }, { wait: true });
    expect(odd.body).toMatchObject({ status: 'failed', error: { code: 'INPUT_UNSUPPORTED_', retryable: false } });
  });

  it('routes a task to the first agent whose canHandle accepts it, and fails one that none accepts with AGENT.CANNOT_HANDLE', async () => {
    expect((await submit('translate', { lang: 'en' }, { wait: true })).body).toMatchObject({ status: 'succeeded', result: { by: 'english' } });
    expect((await submit('translate', { lang: 'fr' }, { wait: true })).body).toMatchObject({ status: 'succeeded', result: { by: 'european' } });
    expect((await submit('translate', { lang: 'tlh' }, { wait: true })).body).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'AGENT.CANNOT_HANDLE', retryable: false },
    });
  });

  it('aborts ctx.signal with reason "cancelled" when the running task is cancelled, and stores nothing from it', async () => {
    const submitted = await submit('cancellable', { id: 'cancel-me' });
    expect(submitted.status).toBe(202);
    const seen = await started.wait('cancel-me');
    expect(seen.task.taskId).toBe(submitted.body.taskId);
    const cancelled = await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${submitted.body.taskId}`, { key });
    expect(cancelled.body.status).toBe('cancelled');
    expect(await aborted.wait('cancel-me')).toBe('cancelled');
    // The handler returned after the abort; its result was not sent, the task stays cancelled.
    await eventually(() => runner.inFlight === 0, { description: 'the cancelled handler settled' });
    expect(await task(submitted.body.taskId)).toMatchObject({ status: 'cancelled', result: null });
  });

  it('on stop, lets the running task finish, then deregisters (the collector announces it left)', async () => {
    const drainLog = testLogger();
    const gate = latch();
    const inHandler = latch<{ taskId: string; signal: AbortSignal }>();
    const stopper = await runAgents({
      nats: { servers: fleet.env.NATS_URL },
      natsCreds: fleet.agentCreds,
      prefix: fleet.prefix,
      credentials: fleet.agentKey,
      agentId: 'sdk-stopper',
      agents: [
        defineAgent({
          name: 'drainer',
          capabilities: ['drain'],
          async handle(t, ctx) {
            inHandler.resolve({ taskId: t.taskId, signal: ctx.signal });
            await gate.promise;
            return { finished: true, aborted: ctx.signal.aborted };
          },
        }),
      ],
      heartbeatMs: 200,
      // stop() waits for a long-poll under way (it cannot be withdrawn): keep it short here.
      takeWaitMs: 1_000,
      logger: drainLog,
      handleSignals: false,
    });
    await stopper.ready;
    const left = collectMessages<{ agentId: string; state: string; reason: string }>(fleet.nc, `${fleet.prefix}.v1.agents.sdk-stopper.left`);
    const draining = collectMessages<{ status: string }>(fleet.nc, `${fleet.prefix}.v1.agents.heartbeat.sdk-stopper`, { filter: (m) => m.data.status === 'draining' });
    await Promise.all([left.ready, draining.ready]);

    const reply = submit('drain', { n: 1 }, { wait: true });
    const { taskId, signal } = await inHandler.promise;
    const stopped = stopper.stop();
    // The agent says it is draining (heartbeat) while its task still runs; then the task finishes.
    await draining.waitForCount(1, { timeoutMs: 10_000 });
    expect(left.messages).toHaveLength(0);
    gate.resolve();
    await stopped;
    const done = await reply;
    expect(done.body).toMatchObject({ taskId, status: 'succeeded', result: { finished: true, aborted: false }, agentId: 'sdk-stopper' });
    expect(signal.aborted).toBe(false);
    const [ev] = await left.waitForCount(1, { timeoutMs: 10_000 });
    expect(ev.data).toMatchObject({ agentId: 'sdk-stopper', state: 'left', reason: 'deregistered' });
    await Promise.all([left.stop(), draining.stop()]);
  });

  describe('a handler that blocks the event loop', () => {
    /** The agent runs in a worker thread from the build: its blocked loop is not this thread's (where the collector runs). */
    function startBlockingAgent(agentId: string, opts: { heartbeatMs: number; blockMs: number; heartbeatThread: boolean }) {
      if (!existsSync(BUILT_SDK)) throw new Error(`${BUILT_SDK} is missing: run "npm run build" first (npm test does)`);
      for (const f of ['index', 'runner', 'heartbeat']) {
        if (statSync(join(BUILT, `${f}.js`)).mtimeMs < statSync(join(SDK_SOURCES, `${f}.ts`)).mtimeMs) throw new Error(`${BUILT}/${f}.js is older than its source: run "npm run build" first`);
      }
      const code = `
        const { parentPort, workerData: w } = require('node:worker_threads');
        const { defineAgent, runAgents } = require(w.sdk);
        const logger = { info() {}, warn: (m) => parentPort.postMessage({ type: 'log', line: 'warn ' + m }), error: (m) => parentPort.postMessage({ type: 'log', line: 'error ' + m }) };
        const blocker = defineAgent({
          name: 'blocker',
          capabilities: ['block'],
          handle(task) {
            parentPort.postMessage({ type: 'blocking', taskId: task.taskId, deliveryCount: task.deliveryCount });
            if (task.deliveryCount > 1) return { blocked: false, deliveryCount: task.deliveryCount };
            const until = Date.now() + w.blockMs;
            while (Date.now() < until) {} // the event loop is stuck: no timer of this thread fires
            return { blocked: true, deliveryCount: task.deliveryCount };
          },
        });
        runAgents({ nats: { servers: w.natsUrl }, natsCreds: w.natsCreds, prefix: w.prefix, credentials: w.agentKey, agentId: w.agentId, agents: [blocker], heartbeatMs: w.heartbeatMs, heartbeatThread: w.heartbeatThread, takeWaitMs: 1000, logger, handleSignals: false })
          .then(async (runner) => {
            await runner.ready;
            parentPort.postMessage({ type: 'ready', heartbeatMode: runner.heartbeatMode });
            parentPort.on('message', (m) => m === 'stop' && runner.stop().then(() => parentPort.postMessage({ type: 'stopped' })));
          })
          .catch((err) => parentPort.postMessage({ type: 'log', line: 'error ' + err.message }));
      `;
      const worker = new Worker(code, { eval: true, workerData: { sdk: BUILT_SDK, natsUrl: fleet.env.NATS_URL, natsCreds: fleet.agentCreds, prefix: fleet.prefix, agentKey: fleet.agentKey, agentId, ...opts } });
      const messages: any[] = [];
      const waiters = new Set<() => void>();
      worker.on('message', (m) => {
        messages.push(m);
        if (m.type === 'log') console.warn(`[${agentId}] ${m.line}`);
        for (const w of [...waiters]) w();
      });
      const next = (type: string) =>
        new Promise<any>((resolve, reject) => {
          const check = () => {
            const m = messages.find((x) => x.type === type);
            if (!m) return;
            waiters.delete(check);
            resolve(m);
          };
          waiters.add(check);
          worker.once('error', reject);
          check();
        });
      return {
        ready: next('ready'),
        blocking: next('blocking'),
        stop: async () => {
          const stopped = next('stopped');
          worker.postMessage('stop');
          await stopped;
          await worker.terminate();
        },
      };
    }

    // Down after 3 missed beats of 250 ms (LIVENESS_MISSED_BEATS 3): 750 ms. The handler blocks three times that.
    const heartbeatMs = 250;
    const blockMs = 3 * 3 * heartbeatMs;

    it('does not get the agent declared down: heartbeats come from their own thread', async () => {
      const down = collectMessages(fleet.nc, `${fleet.prefix}.v1.agents.sdk-busy.down`);
      const beats = collectMessages<{ seq: number }>(fleet.nc, `${fleet.prefix}.v1.agents.heartbeat.sdk-busy`);
      await Promise.all([down.ready, beats.ready]);
      const agent = startBlockingAgent('sdk-busy', { heartbeatMs, blockMs, heartbeatThread: true });
      try {
        expect((await agent.ready).heartbeatMode).toBe('thread');
        const reply = submit('block', { n: 1 }, { wait: true });
        await agent.blocking;
        const beatsBefore = beats.messages.length;
        const done = await reply;
        expect(done.body).toMatchObject({ status: 'succeeded', result: { blocked: true, deliveryCount: 1 }, agentId: 'sdk-busy', attempts: 1 });
        // Beats kept coming while the handler held the agent's event loop, and the collector never declared it down.
        expect(beats.messages.length).toBeGreaterThan(beatsBefore + 2);
        expect(down.messages).toHaveLength(0);
        const agents = await http(fleet.httpUrl, 'GET', '/v1/agents?status=up', { key: fleet.adminKey });
        expect(agents.body.agents).toEqual(expect.arrayContaining([expect.objectContaining({ agentId: 'sdk-busy', status: 'up', flaps: 0 })]));
      } finally {
        await agent.stop();
        await Promise.all([down.stop(), beats.stop()]);
      }
    });

    it('(control) the same block with heartbeats on the main thread does get the agent declared down, and its task goes to another delivery', async () => {
      const down = collectMessages<{ agentId: string; reason: string }>(fleet.nc, `${fleet.prefix}.v1.agents.sdk-busy-main.down`);
      await down.ready;
      const agent = startBlockingAgent('sdk-busy-main', { heartbeatMs, blockMs, heartbeatThread: false });
      try {
        expect((await agent.ready).heartbeatMode).toBe('main');
        const reply = submit('block', { n: 2 }, { wait: true });
        const [ev] = await down.waitForCount(1, { timeoutMs: 20_000 });
        expect(ev.data).toMatchObject({ agentId: 'sdk-busy-main', reason: 'missed_heartbeats' });
        // Reclaimed at once and run again (by the same agent, back up once its loop is free): delivery 2.
        const done = await reply;
        expect(done.body).toMatchObject({ status: 'succeeded', result: { blocked: false, deliveryCount: 2 }, attempts: 2 });
      } finally {
        await agent.stop();
        await down.stop();
      }
    });
  });
});
