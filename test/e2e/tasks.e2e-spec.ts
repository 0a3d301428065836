/**
 * The task pipeline end to end: gateway → auth → tenancy → JetStream → worker → result,
 * over HTTP and over plain NATS, on real NATS and Redis.
 */
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';
import { watchRunning } from './support/watch-running';

jest.setTimeout(60_000);

describe('task pipeline', () => {
  let fleet: Fleet;
  let key: string;
  let tenantId: string;

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    ({ key, tenantId } = await tenantWithKey(fleet.httpUrl, fleet.adminKey));
  });
  afterAll(() => fleet?.stop());

  const submitSubject = () => `${fleet.prefix}.v1.tasks.submit`;

  it('answers a task submitted over HTTP with wait', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: { hello: 'world' }, wait: true } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'succeeded', result: { echo: { hello: 'world' } }, attempts: 1, capability: 'echo' });
    expect(r.body.agentId).toEqual(expect.any(String));
    expect(r.body.finishedAt).toEqual(expect.any(String));
  });

  it('answers a task submitted by a plain NATS client, and serves get', async () => {
    const r = await natsRequest(fleet.nc, submitSubject(), { capability: 'echo', input: [1, 2, 3], wait: true }, { key });
    expect(r.errorCode).toBeUndefined();
    expect(r.body).toMatchObject({ status: 'succeeded', result: { echo: [1, 2, 3] } });
    const got = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.get`, { taskId: r.body.taskId }, { key });
    expect(got.body).toMatchObject({ taskId: r.body.taskId, status: 'succeeded' });
  });

  it('queues without wait, then GET /wait returns the finished task', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 'x' } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ taskId: expect.any(String), status: 'queued' });
    const w = await http(fleet.httpUrl, 'GET', `/v1/tasks/${r.body.taskId}/wait?timeoutMs=10000`, { key });
    expect(w.body).toMatchObject({ taskId: r.body.taskId, status: 'succeeded', result: { echo: 'x' } });
    const list = await http(fleet.httpUrl, 'GET', '/v1/tasks?limit=50', { key });
    expect(list.body.map((t: { taskId: string }) => t.taskId)).toContain(r.body.taskId);
  });

  it('returns the same task for the same Idempotency-Key, over both transports', async () => {
    const headers = { 'Idempotency-Key': `order-${Math.random()}` };
    const a = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 1 }, headers });
    const b = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'echo', input: 1 }, headers });
    const c = await natsRequest(fleet.nc, submitSubject(), { capability: 'echo', input: 1 }, { key, headers });
    expect(b.body.taskId).toBe(a.body.taskId);
    expect(c.body.taskId).toBe(a.body.taskId);
    // Another tenant using the same key gets its own task.
    const other = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const d = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: other.key, body: { capability: 'echo', input: 1 }, headers });
    expect(d.body.taskId).not.toBe(a.body.taskId);
  });

  it('cancels a running task: the agent is aborted and the record says cancelled', async () => {
    const running = watchRunning(fleet, tenantId);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 30_000 }, timeoutMs: 60_000 } });
    const taskId = r.body.taskId;
    await running.started(taskId);
    running.stop();
    const c = await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${taskId}`, { key });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ status: 'cancelled' });
    const again = await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${taskId}`, { key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('TASK.NOT_CANCELLABLE');
  });

  it('answers a submit-and-wait at once when another request cancels the task', async () => {
    const running = watchRunning(fleet, tenantId);
    const queued = new Promise<string>((resolve) => {
      fleet.nc.subscribe(`${fleet.prefix}.v1.tasks.events.${tenantId}.*.queued`, { max: 1, callback: (_e, m) => resolve(m.subject.split('.').slice(-2)[0]) });
    });
    await fleet.nc.flush(); // the subscription is on the server before the submit
    const waiting = natsRequest(fleet.nc, submitSubject(), { capability: 'sleep', input: { ms: 30_000 }, timeoutMs: 60_000, wait: true }, { key, timeoutMs: 20_000 });
    const taskId = await queued;
    await running.started(taskId);
    running.stop();
    const c = await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${taskId}`, { key });
    expect(c.status).toBe(200);
    expect((await waiting).body).toMatchObject({ taskId, status: 'cancelled' });
  });

  it('ends a task that outlives its timeout as timed_out', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'sleep', input: { ms: 20_000 }, timeoutMs: 500, wait: true } });
    expect(r.body).toMatchObject({ status: 'timed_out', error: { code: 'TASK.TIMED_OUT' } });
  });

  it('retries a failing task with backoff until it succeeds', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 2, result: 'ok' }, wait: true } });
    expect(r.body).toMatchObject({ status: 'succeeded', attempts: 3, result: { ok: true, attempts: 3, result: 'ok' } });
  });

  it('dead-letters a task that exhausts its retry budget, with every error', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { failTimes: 99 }, wait: true } });
    expect(r.body).toMatchObject({ status: 'dead_lettered', attempts: 3, error: { code: 'AGENT.FLAKY' } });
    const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(fleet.nc);
    const dlq = await jsm.streams.getMessage(`${fleet.prefix.toUpperCase()}_DLQ`, { last_by_subj: `${fleet.prefix}.dlq.flaky` });
    const entry = dlq!.json<{ task: { taskId: string }; errors: unknown[] }>();
    expect(entry.task.taskId).toBe(r.body.taskId);
    expect(entry.errors).toHaveLength(3);
  });

  it('fails a task at once when the agent says retrying cannot help', async () => {
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'flaky', input: { fail: 'permanent' }, wait: true } });
    expect(r.body).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('runs the code-analysis agent', async () => {
    const code = '```python\ndef f(x):\n    if x > 1 and x < 5:\n        return 1\n    return 0\n```';
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key, body: { capability: 'code-analysis', input: code, wait: true } });
    expect(r.body.status).toBe('succeeded');
    expect(r.body.result.blocks[0]).toMatchObject({ language: 'python' });
    expect(r.body.result.blocks[0].cyclomaticComplexity).toBeGreaterThanOrEqual(3);
  });
});
