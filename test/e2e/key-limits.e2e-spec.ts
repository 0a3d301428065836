/**
 * One API key cannot take what every caller shares (issue 12, #12): its open event streams and
 * its requests waiting for a task are capped per key (429, retryable, Retry-After) over HTTP and
 * NATS, its reads have a rate budget of their own, and listing tasks reads a bounded page with a
 * cursor to the next, never every record.
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { eventually } from '@sb/testing';
import { type Fleet, startFleet } from './support/fleet';
import { http, tenantWithKey } from './support/http';
import { natsRequest } from './support/nats-client';
import { openSse, type SseStream } from './support/sse';

jest.setTimeout(90_000);

const errorOf429 = { error: { code: 'RATE_LIMIT.EXCEEDED', message: expect.any(String), retryable: true } };

describe('per-key limits', () => {
  let fleet: Fleet;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    fleet = await startFleet({
      workers: 1,
      gatewayEnv: { SSE_MAX_STREAMS_PER_KEY: '2', WAIT_MAX_PER_KEY: '2', KEY_READ_RATE: '1', KEY_READ_BURST: '20', TASK_LIST_SCAN_MAX: '4' },
    });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await fleet?.stop();
  });

  const gauge = async (name: string) => {
    const text = await fetch(`${fleet.opsUrl}/metrics`).then((r) => r.text());
    return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  };
  const sse = async (key: string) => {
    const s = await openSse(fleet.httpUrl, '/v1/tasks/events', key);
    streams.push(s);
    return s;
  };

  it('refuses a key its third event stream with 429 while other keys still open theirs, until it closes one', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const [one, two] = [await sse(a.key), await sse(a.key)];
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(one.headers['cache-control']).toBe('no-store, no-transform');
    const third = await http(fleet.httpUrl, 'GET', '/v1/tasks/events', { key: a.key });
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject(errorOf429);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await sse(b.key)).status).toBe(200);
    const open = await gauge('sb_sse_streams');
    one.close();
    await eventually(async () => expect(await gauge('sb_sse_streams')).toBe(open - 1));
    expect((await sse(a.key)).status).toBe(200);
  });

  it('caps the requests one key has waiting for a task, over HTTP and NATS, refusing before anything is stored', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const slow = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'sleep', input: { ms: 60_000 }, timeoutMs: 120_000 } });
    expect(slow.status).toBe(202);
    const before = await gauge('sb_task_waits');
    const held = [1, 2].map(() => http(fleet.httpUrl, 'GET', `/v1/tasks/${slow.body.taskId}/wait?timeoutMs=120000`, { key: a.key }));
    await eventually(async () => expect(await gauge('sb_task_waits')).toBe(before + 2));

    const httpWait = await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'no room', wait: true } });
    expect(httpWait.status).toBe(429);
    expect(httpWait.body).toMatchObject(errorOf429);
    expect(httpWait.headers.get('retry-after')).toMatch(/^\d+$/);
    const getWait = await http(fleet.httpUrl, 'GET', `/v1/tasks/${slow.body.taskId}/wait?timeoutMs=0`, { key: a.key });
    expect(getWait.status).toBe(429);
    const natsWait = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 'no room', wait: true }, { key: a.key });
    expect(natsWait).toMatchObject({ errorCode: '429', retryAfter: expect.stringMatching(/^\d+$/), body: errorOf429 });
    // Refused before admission: nothing was queued for them; a submission without wait still goes.
    const list = await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: a.key });
    expect(list.body.map((t: { taskId: string }) => t.taskId)).toEqual([slow.body.taskId]);
    expect((await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo', input: 'queued' } })).status).toBe(202);
    // Another key waits as usual.
    expect((await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: b.key, body: { capability: 'echo', input: 'b', wait: true } })).body.status).toBe('succeeded');

    // The held waits end (the task is cancelled), and the key waits again.
    expect((await http(fleet.httpUrl, 'DELETE', `/v1/tasks/${slow.body.taskId}`, { key: a.key })).status).toBe(200);
    expect((await Promise.all(held)).map((r) => r.body.status)).toEqual(['cancelled', 'cancelled']);
    const again = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: 'room again', wait: true }, { key: a.key });
    expect(again.body).toMatchObject({ status: 'succeeded', result: { echo: 'room again' } });
  });

  it("limits a key's reads (HTTP GET and NATS get) to its own budget, with RateLimit headers; other keys read on", async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const b = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const first = await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: a.key });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('20');
    expect(Number(first.headers.get('ratelimit-remaining'))).toBeLessThan(20);
    let refused: Awaited<ReturnType<typeof http>> | undefined;
    for (let i = 0; i < 25 && !refused; i++) {
      const r = await http(fleet.httpUrl, 'GET', `/v1/tenants/${a.tenantId}`, { key: a.key });
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(200);
    }
    expect(refused!.body).toMatchObject(errorOf429);
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused!.headers.get('ratelimit-remaining')).toBe('0');
    // The same budget over NATS (a read let through by the bucket's refill is a plain 404).
    const natsRefusal = await (async () => {
      for (let i = 0; i < 5; i++) {
        const r = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.get`, { taskId: 'tnothing' }, { key: a.key });
        if (r.errorCode !== '404') return r;
      }
    })();
    expect(natsRefusal).toMatchObject({ errorCode: '429', retryAfter: expect.stringMatching(/^\d+$/), body: errorOf429 });
    expect((await http(fleet.httpUrl, 'GET', '/v1/tasks', { key: b.key })).status).toBe(200);
    // Submissions are not reads: they have their own limits.
    expect((await http(fleet.httpUrl, 'POST', '/v1/tasks', { key: a.key, body: { capability: 'echo' } })).status).toBe(202);
  });

  it('lists tasks a bounded page at a time, with a cursor to the next, over HTTP and NATS', async () => {
    const a = await tenantWithKey(fleet.httpUrl, fleet.adminKey);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await natsRequest(fleet.nc, `${fleet.prefix}.v1.tasks.submit`, { capability: 'echo', input: i, wait: true }, { key: a.key });
      expect(r.body.status).toBe('succeeded');
      ids.push(r.body.taskId);
    }
    // Finished tasks no longer change: most recently changed first is the order they finished in.
    const newestFirst = [...ids].reverse();

    const httpPages: string[][] = [];
    let cursor: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof http<Array<{ taskId: string }>>>> = await http(fleet.httpUrl, 'GET', `/v1/tasks?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { key: a.key });
      expect(r.status).toBe(200);
      httpPages.push(r.body.map((t) => t.taskId));
      cursor = r.headers.get('sb-next-cursor');
    } while (cursor && httpPages.length < 10);
    expect(httpPages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(httpPages.flat()).toEqual(newestFirst);

    const natsPages: string[][] = [];
    let natsCursor: string | undefined;
    do {
      const h = natsHeaders();
      h.set('Authorization', `Bearer ${a.key}`);
      const reply = await fleet.nc.request(`${fleet.prefix}.v1.tasks.list`, JSON.stringify({ limit: 3, ...(natsCursor ? { cursor: natsCursor } : {}) }), { headers: h, timeout: 10_000 });
      expect(reply.headers?.get('Nats-Service-Error-Code') ?? '').toBe('');
      natsPages.push(reply.json<Array<{ taskId: string }>>().map((t) => t.taskId));
      natsCursor = reply.headers?.get('Sb-Next-Cursor') || undefined;
    } while (natsCursor && natsPages.length < 10);
    expect(natsPages.flat()).toEqual(newestFirst);

    // A filter that matches nothing still reads at most TASK_LIST_SCAN_MAX (4) records a call:
    // the first page is empty but names a next one, which ends the list.
    const none = await http(fleet.httpUrl, 'GET', '/v1/tasks?status=failed', { key: a.key });
    expect(none.body).toEqual([]);
    const next = none.headers.get('sb-next-cursor');
    expect(next).toMatch(/^\d+$/);
    const rest = await http(fleet.httpUrl, 'GET', `/v1/tasks?status=failed&cursor=${next}`, { key: a.key });
    expect(rest.body).toEqual([]);
    expect(rest.headers.get('sb-next-cursor')).toBeNull();

    for (const bad of ['limit=1001', 'limit=0', 'cursor=abc', 'cursor=-1']) {
      const r = await http(fleet.httpUrl, 'GET', `/v1/tasks?${bad}`, { key: a.key });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('REQUEST.INVALID');
    }
  });
});
