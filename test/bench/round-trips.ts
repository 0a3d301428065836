/**
 * The task round trip through a running fleet, as a client sees it: submit an `echo` task with
 * `wait: true` and get the finished record back, over plain NATS (the public contract, with an
 * API key in the Authorization header, connected as the tenant's NATS user through its own
 * account, as a user's client does) and over HTTP (POST /v1/tasks, fetch = undici keep-alive).
 *
 * Each finished record carries createdAt / startedAt / finishedAt, which splits the client's
 * wall time into stages (ms resolution, one machine, one clock): intake (auth, rate limit,
 * admit), queue (store, enqueue, worker pull, mark running), run (the agent), and back (store
 * the result, event to the gateway, re-read the record, reply).
 */
import { Agent, request as httpRequest } from 'node:http';
import { type ConnectionOptions, headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { names } from '@sb/contracts';
import { credsOptions } from './bench-nats';
import type { Target } from './floor';
import { echoInput } from './payload';

const enc = new TextEncoder();
const dec = new TextDecoder();

interface FinishedTask {
  taskId: string;
  status: string;
  result?: unknown;
  createdAt: string;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface StageMeans {
  samples: number;
  intakeMs: number;
  queueMs: number;
  runMs: number;
  backMs: number;
}

/** Collects per-task stage times; `reset()` at the start of the measuring window. */
export class StageRecorder {
  private sums = [0, 0, 0, 0];
  private n = 0;

  reset(): void {
    this.sums = [0, 0, 0, 0];
    this.n = 0;
  }

  add(sentAt: number, receivedAt: number, t: FinishedTask): void {
    const created = Date.parse(t.createdAt);
    const started = t.startedAt ? Date.parse(t.startedAt) : Number.NaN;
    const finished = t.finishedAt ? Date.parse(t.finishedAt) : Number.NaN;
    if (!Number.isFinite(created) || !Number.isFinite(started) || !Number.isFinite(finished)) return;
    const parts = [created - sentAt, started - created, finished - started, receivedAt - finished];
    parts.forEach((v, i) => (this.sums[i] += v));
    this.n++;
  }

  means(): StageMeans | undefined {
    if (this.n === 0) return undefined;
    const [a, b, c, d] = this.sums.map((s) => s / this.n);
    return { samples: this.n, intakeMs: a, queueMs: b, runMs: c, backMs: d };
  }
}

async function httpJson(base: string, method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** A fresh tenant and a key that may submit and read tasks. */
export async function tenantWithKey(gatewayUrl: string, adminKey: string): Promise<{ tenantId: string; key: string }> {
  const t = await httpJson(gatewayUrl, 'POST', '/v1/tenants', adminKey, { name: `bench-${Date.now().toString(36)}`, plan: 'enterprise' });
  if (t.status !== 201) throw new Error(`creating the bench tenant failed: ${t.status} ${JSON.stringify(t.body)}`);
  const tenantId = (t.body as { id: string }).id;
  // The bench measures the pipeline, not the plan: lift the tenant's rate (the gateway's ceiling still applies) and
  // its running-task ceiling (a tenant with one pays a slot round trip to tenancy per task; see docs/benchmarks.md).
  const p = await httpJson(gatewayUrl, 'PATCH', `/v1/tenants/${tenantId}`, adminKey, { limits: { submitRate: 1_000_000, submitBurst: 1_000_000, maxConcurrent: null } });
  if (p.status !== 200) throw new Error(`lifting the bench tenant's limits failed: ${p.status} ${JSON.stringify(p.body)}`);
  const k = await httpJson(gatewayUrl, 'POST', '/v1/keys', adminKey, { tenantId, scopes: ['tasks:submit', 'tasks:read'] });
  if (k.status !== 201) throw new Error(`creating the bench key failed: ${k.status} ${JSON.stringify(k.body)}`);
  return { tenantId, key: (k.body as { key: string }).key };
}

function checkFinished(t: FinishedTask): FinishedTask {
  if (t?.status !== 'succeeded') throw new Error(`task ended ${t?.status ?? 'without a record'}: ${JSON.stringify(t).slice(0, 300)}`);
  return t;
}

/**
 * A tenant's NATS client, as a user makes one: credentials from `POST /v1/nats/credentials` with
 * the tenant's API key (a user of the tenant's own account), and the private inbox the gateway names.
 */
export async function tenantNatsClient(natsUrl: string, gatewayUrl: string, key: string, name = 'bench-nats-client'): Promise<ConnectionOptions> {
  const res = await fetch(`${gatewayUrl}/v1/nats/credentials`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
  const creds = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/nats/credentials answered ${res.status}: ${creds.slice(0, 300)}`);
  const inboxPrefix = res.headers.get('sb-inbox-prefix');
  if (!inboxPrefix) throw new Error('POST /v1/nats/credentials named no inbox prefix (Sb-Inbox-Prefix)');
  return credsOptions(natsUrl, creds, name, inboxPrefix);
}

/** Submit-and-wait over plain NATS, as any client of the public contract does it (`client`: tenantNatsClient). */
export async function startNatsRoundTrip(client: ConnectionOptions, prefix: string, key: string, stages: StageRecorder): Promise<Target> {
  const nc: NatsConnection = await connect(client);
  const subject = names(prefix).tasks.submit;
  let seq = 0;
  return {
    op: async () => {
      const h = natsHeaders();
      h.set('Authorization', `Bearer ${key}`);
      const body = enc.encode(JSON.stringify({ capability: 'echo', input: echoInput(++seq), wait: true }));
      const sentAt = Date.now();
      const reply = await nc.request(subject, body, { headers: h, timeout: 15_000 });
      const receivedAt = Date.now();
      const code = reply.headers?.get('Nats-Service-Error-Code');
      if (code) throw new Error(`submit failed: ${code} ${reply.headers?.get('Nats-Service-Error') ?? ''}`);
      stages.add(sentAt, receivedAt, checkFinished(JSON.parse(dec.decode(reply.data)) as FinishedTask));
    },
    close: async () => {
      await nc.drain().catch(() => undefined);
    },
  };
}

/** Submit-and-wait over HTTP with Node's fetch (undici, keep-alive connections). */
export function startHttpRoundTrip(gatewayUrl: string, key: string, stages: StageRecorder): Target {
  let seq = 0;
  const url = `${gatewayUrl}/v1/tasks`;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  return {
    op: async () => {
      const sentAt = Date.now();
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ capability: 'echo', input: echoInput(++seq), wait: true }) });
      const text = await res.text();
      const receivedAt = Date.now();
      if (res.status !== 200) throw new Error(`submit failed: HTTP ${res.status} ${text.slice(0, 300)}`);
      stages.add(sentAt, receivedAt, checkFinished(JSON.parse(text) as FinishedTask));
    },
    close: async () => undefined,
  };
}

/**
 * The same over node:http with a keep-alive agent: far cheaper per request than fetch, so the load generator stays out of the way of what is measured.
 */
export function startNodeHttpRoundTrip(gatewayUrl: string, key: string, stages: StageRecorder): Target {
  const u = new URL(gatewayUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1_024 });
  let seq = 0;
  const post = (body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: '/v1/tasks',
          method: 'POST',
          agent,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return {
    op: async () => {
      const sentAt = Date.now();
      const { status, text } = await post(JSON.stringify({ capability: 'echo', input: echoInput(++seq), wait: true }));
      const receivedAt = Date.now();
      if (status !== 200) throw new Error(`submit failed: HTTP ${status} ${text.slice(0, 300)}`);
      stages.add(sentAt, receivedAt, checkFinished(JSON.parse(text) as FinishedTask));
    },
    close: async () => agent.destroy(),
  };
}

/** Submit until the fleet answers with a finished task (the worker may still be registering its capability). */
export async function primeFleet(op: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      await op();
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the fleet never completed a task in ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
}
