/** GET /v1/tasks/events: live task status changes over SSE, per tenant, filtered. */
import { eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { openSse, readBody, type SseStream } from './support/sse';

jest.setTimeout(60_000);

describe('task events over SSE', () => {
  let fleet: Fleet;
  let a: { tenantId: string; key: string };
  let b: { tenantId: string; key: string };
  const streams: SseStream[] = [];
  const open = async (path: string, key: string) => {
    const s = await openSse(fleet.httpUrl, path, key);
    streams.push(s);
    return s;
  };

  beforeAll(async () => {
    fleet = await startFleet({ workers: 1 });
    a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await fleet?.stop();
  });

  it("streams a tenant's task from queued to succeeded, and nothing of another tenant", async () => {
    const mine = await open('/v1/tasks/events', a.key);
    const theirs = await open('/v1/tasks/events', b.key);
    expect(mine.status).toBe(200);
    expect(mine.headers['content-type']).toMatch(/^text\/event-stream/);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'sse' } });
    expect(r.status).toBe(202);
    const done = await mine.next((f) => f.event === 'task' && f.data.taskId === r.body.taskId && f.data.status === 'succeeded');
    expect(done.data).toMatchObject({ tenantId: a.tenantId, capability: 'echo', attempts: 1 });
    expect(mine.frames.some((f) => f.data?.taskId === r.body.taskId && f.data.status === 'queued')).toBe(true);
    // b's stream is open on the same gateway; a task of b's arrives there, a's never does.
    const rb = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: b.key, body: { capability: 'echo', input: 'b' } });
    await theirs.next((f) => f.data?.taskId === rb.body.taskId && f.data.status === 'succeeded');
    expect(theirs.frames.some((f) => f.data?.taskId === r.body.taskId)).toBe(false);
  });

  it('filters by status and task', async () => {
    const onlyDone = await open('/v1/tasks/events?status=succeeded,failed', a.key);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'f', wait: true } });
    await onlyDone.next((f) => f.data?.taskId === r.body.taskId);
    expect(onlyDone.frames.every((f) => ['succeeded', 'failed'].includes(f.data.status))).toBe(true);
  });

  it('lets an admin watch one tenant, and refuses bad queries and credentials with JSON errors', async () => {
    const admin = await open(`/v1/tasks/events?tenantId=${a.tenantId}`, fleet.adminKey);
    const r = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'adm' } });
    await admin.next((f) => f.data?.taskId === r.body.taskId && f.data.status === 'succeeded');

    const noKey = await readBody(fleet.httpUrl, '/v1/tasks/events');
    expect(noKey.status).toBe(401);
    expect(noKey.body.error.code).toBe('AUTH.INVALID_CREDENTIALS');
    const badStatus = await readBody(fleet.httpUrl, '/v1/tasks/events?status=nope', a.key);
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.code).toBe('REQUEST.INVALID');
    const unknownField = await readBody(fleet.httpUrl, '/v1/tasks/events?foo=1', a.key);
    expect(unknownField.status).toBe(400);
    const otherTenant = await readBody(fleet.httpUrl, `/v1/tasks/events?tenantId=${b.tenantId}`, a.key);
    expect(otherTenant.status).toBe(404);
  });

  it('releases the stream when the client goes away', async () => {
    const s = await open('/v1/tasks/events', a.key);
    const gauge = async () => {
      const m = await fetch(`${fleet.opsUrl}/metrics`).then((x) => x.text());
      return Number(/^sb_sse_streams(?:\{[^}]*\})? (\d+)/m.exec(m)?.[1] ?? NaN);
    };
    const before = await gauge();
    expect(before).toBeGreaterThanOrEqual(1);
    s.close();
    await eventually(async () => expect(await gauge()).toBe(before - 1));
  });
});
