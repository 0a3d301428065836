/**
 * The bus as a Nest transport, against a real NATS server with JetStream: handlers declared with
 * @MessagePattern, @EventPattern and @JetStreamConsumer on a controller are found by Nest and
 * served; guards and contract pipes run; errors leave structured; events fan out or are shared;
 * consumer messages are acked, nak'd with backoff, or terminated by the handler's outcome.
 */
import { type CanActivate, Controller, type DynamicModule, type ExecutionContext, Module, UseGuards } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AckPolicy, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { ConflictError, type ConsumerEndpoint, Endpoints, eventOf, ForbiddenError, names, type ParsedReqOf, UnavailableError } from '@sb/contracts';
import { createLogger, createServiceApp, ServiceMetrics } from '@sb/observability';
import { cleanupJetStream, eventually, testEnv, uniquePrefix } from '@sb/testing';
import { lastValueFrom } from 'rxjs';
import { Bus } from '../bus';
import { coreImports } from '../core-imports';
import { NatsClient } from '../nats-client';
import { contract } from './contract.pipe';
import { JetStreamConsumer } from './decorators';
import { SbClientProxy } from './sb-client.proxy';
import type { SbContext } from './sb-context';

const enc = new TextEncoder();
const dec = new TextDecoder();
const Seen = eventOf<{ n: number }>((n) => `${n.prefix}.test.seen.*`, 1024);
const Shared = eventOf<{ n: number }>((n) => `${n.prefix}.test.shared`, 1024, { shared: true });
const Jobs: ConsumerEndpoint<{ outcome: 'ok' | 'retry' | 'never' }> = { kind: 'consumer', stream: (n) => `${n.prefix.toUpperCase()}_JOBS`, durable: () => 'worker', concurrency: 4, maxBytes: 1024 };
const tenant = (id: string) => ({ id, name: 'n', plan: 'free', status: 'active' as const, createdAt: 'x', updatedAt: 'x' });

/** Records what reached the handlers, per app instance. */
class Probe {
  events: { subject: string; body: unknown }[] = [];
  shared: number[] = [];
  jobs: { outcome: string; delivery: number }[] = [];
  release?: Promise<void>;
  started?: () => void;
}

class DenyNamedForbidden implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const ctx = context.switchToRpc().getContext<SbContext>();
    if (ctx.header('X-Role') === 'nobody') throw new ForbiddenError('Not for you');
    return true;
  }
}

@Controller()
class TestController {
  constructor(private readonly probe: Probe) {}

  @MessagePattern(Endpoints.getTenant)
  @UseGuards(DenyNamedForbidden)
  async get(@Payload(contract(Endpoints.getTenant)) req: ParsedReqOf<typeof Endpoints.getTenant>, @Ctx() ctx: SbContext) {
    if (req.id === 'taken') throw new ConflictError('already there');
    if (req.id === 'crash') throw new Error('secret internals');
    if (req.id === 'slow') {
      this.probe.started?.();
      await this.probe.release;
    }
    ctx.setReplyHeader('X-Served-By', 'test');
    return tenant(req.id);
  }

  @MessagePattern(Endpoints.listTenants, { timeoutMs: 50 })
  async list() {
    await new Promise(() => undefined); // never answers: the time limit does
  }

  @EventPattern(Seen)
  seen(@Payload() body: unknown, @Ctx() ctx: SbContext) {
    this.probe.events.push({ subject: ctx.lastToken, body });
  }

  @EventPattern(Shared)
  sharedEvent(body: { n: number }) {
    this.probe.shared.push(body.n);
  }

  @JetStreamConsumer(Jobs)
  job(@Payload() body: { outcome: string }, @Ctx() ctx: SbContext) {
    this.probe.jobs.push({ outcome: body.outcome, delivery: ctx.deliveryCount });
    if (body.outcome === 'retry' && ctx.deliveryCount < 2) throw new UnavailableError('not yet');
    if (body.outcome === 'never') throw new ConflictError('never');
  }
}

@Module({})
class TestModule {}

async function boot(prefix: string, graceMs = 5_000): Promise<{ app: NestFastifyApplication; probe: Probe }> {
  const logger = createLogger('test', 'silent');
  const probe = new Probe();
  const config = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000, SHUTDOWN_GRACE_MS: graceMs };
  const module = (): DynamicModule => ({ module: TestModule, imports: coreImports('test', config, logger), controllers: [TestController], providers: [{ provide: Probe, useValue: probe }] });
  const { app } = await createServiceApp({ service: 'test', config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: graceMs }, module, logger });
  await app.init();
  return { app, probe };
}

describe('SbTransport over real NATS', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  let a: { app: NestFastifyApplication; probe: Probe };
  let b: { app: NestFastifyApplication; probe: Probe };
  let bus: Bus;
  let client: NatsClient;

  beforeAll(async () => {
    // The consumer's stream and durable exist before the service starts (its owner creates them).
    const nc = await connect({ servers: testEnv().natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: Jobs.stream(n), subjects: [`${prefix}.jobs.>`], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add(Jobs.stream(n), { durable_name: 'worker', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
    await nc.close();
    a = await boot(prefix);
    b = await boot(prefix);
    bus = a.app.get(Bus);
    client = a.app.get(NatsClient);
  });
  afterAll(async () => {
    await cleanupJetStream(client.nc, prefix);
    await b.app.close();
    await a.app.close();
  });

  it('serves a declared request handler: validates with the contract pipe, answers, maps errors to headers and back', async () => {
    await expect(bus.request(Endpoints.getTenant, { id: 'a' })).resolves.toMatchObject({ id: 'a' });
    await expect(bus.request(Endpoints.getTenant, { id: 'taken' })).rejects.toMatchObject({ code: 'RESOURCE.CONFLICT', status: 409 });
    await expect(bus.request(Endpoints.getTenant, { id: 'bad id!' })).rejects.toMatchObject({ code: 'REQUEST.INVALID', status: 400 });
    const crash = await bus.request(Endpoints.getTenant, { id: 'crash' }).then(() => new Error('answered'), (e: Error) => e);
    expect(crash).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(crash.message).not.toContain('secret');
    // What a plain NATS client sees: the Nats-Service-Error headers and the {error} body.
    const raw = await client.nc.request(n.internal.tenantsGet, enc.encode('not json'));
    expect(raw.headers?.get('Nats-Service-Error-Code')).toBe('400');
    expect(JSON.parse(dec.decode(raw.data))).toMatchObject({ error: { code: 'REQUEST.MALFORMED', retryable: false } });
    const ok = await client.nc.request(n.internal.tenantsGet, enc.encode('{"id":"h"}'));
    expect(ok.headers?.get('X-Served-By')).toBe('test');
    // Counted per endpoint subject, by outcome and code, across both replicas.
    const text = (await a.app.get(ServiceMetrics).registry.metrics()) + (await b.app.get(ServiceMetrics).registry.metrics());
    expect(text).toMatch(new RegExp(`sb_requests_total\\{[^}]*endpoint="${n.internal.tenantsGet}"[^}]*code="RESOURCE.CONFLICT"[^}]*\\} 1`));
  });

  it('runs guards before the contract pipe: a refused caller gets 403, whatever the body', async () => {
    const h = natsHeaders();
    h.set('X-Role', 'nobody');
    const raw = await client.nc.request(n.internal.tenantsGet, enc.encode('{"id":"bad id!"}'), { headers: h, timeout: 2_000 });
    expect(raw.headers?.get('Nats-Service-Error-Code')).toBe('403');
    expect(JSON.parse(dec.decode(raw.data))).toMatchObject({ error: { code: 'AUTH.FORBIDDEN', message: 'Not for you' } });
  });

  it('answers SERVICE.TIMEOUT when a handler outlives its time limit', async () => {
    await expect(bus.request(Endpoints.listTenants, {})).rejects.toMatchObject({ code: 'SERVICE.TIMEOUT', status: 503, retryable: true });
  });

  it('delivers an event to every replica, and a shared event to one of them', async () => {
    client.nc.publish(`${prefix}.test.seen.agent-7`, enc.encode('{"n":1}'));
    client.nc.publish(`${prefix}.test.seen.agent-8`, enc.encode('not json'));
    for (let i = 0; i < 10; i++) client.nc.publish(`${prefix}.test.shared`, enc.encode(JSON.stringify({ n: i })));
    await eventually(async () => a.probe.events.length === 2 && b.probe.events.length === 2 && a.probe.shared.length + b.probe.shared.length === 10);
    expect(a.probe.events).toEqual([
      { subject: 'agent-7', body: { n: 1 } },
      { subject: 'agent-8', body: undefined },
    ]);
    expect([...a.probe.shared, ...b.probe.shared].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('acks a consumed message the handler finished, redelivers a retryable failure, terminates the rest', async () => {
    for (const outcome of ['ok', 'retry', 'never']) await client.js.publish(`${prefix}.jobs.x`, enc.encode(JSON.stringify({ outcome })));
    // Acked and terminated messages are no longer pending; nothing is waiting for redelivery.
    await eventually(
      async () => {
        const info = await client.jsm.consumers.info(Jobs.stream(n), 'worker');
        return info.delivered.stream_seq === 3 && info.num_ack_pending === 0 && info.num_pending === 0;
      },
      { timeoutMs: 10_000 },
    );
    const jobs = [...a.probe.jobs, ...b.probe.jobs];
    expect(jobs.filter((j) => j.outcome === 'ok')).toEqual([{ outcome: 'ok', delivery: 1 }]);
    expect(jobs.filter((j) => j.outcome === 'retry').map((j) => j.delivery).sort()).toEqual([1, 2]);
    expect(jobs.filter((j) => j.outcome === 'never')).toEqual([{ outcome: 'never', delivery: 1 }]);
  }, 20_000);

  it('is reachable through Nest\'s client API too (SbClientProxy.send)', async () => {
    const proxy = a.app.get(SbClientProxy);
    await expect(lastValueFrom(proxy.send(Endpoints.getTenant, { id: 'via-proxy' }))).resolves.toMatchObject({ id: 'via-proxy' });
    await expect(lastValueFrom(proxy.send(Endpoints.getTenant, { id: 'taken' }))).rejects.toMatchObject({ code: 'RESOURCE.CONFLICT' });
  });

  it('on shutdown stops taking requests but lets the ones being served reply', async () => {
    const p2 = uniquePrefix();
    const other = await boot(p2);
    let release!: () => void;
    other.probe.release = new Promise<void>((r) => (release = r));
    const started = new Promise<void>((r) => (other.probe.started = r));
    const reply = client.nc.request(names(p2).internal.tenantsGet, enc.encode('{"id":"slow"}'), { timeout: 5000 });
    await started;
    const closing = other.app.close();
    // Release the handler only once this instance has stopped taking requests (nobody answers the subject any more).
    await eventually(async () =>
      client.nc.request(names(p2).internal.tenantsGet, enc.encode('{"id":"probe"}'), { timeout: 500 }).then(
        () => false,
        (e: Error) => /no responders/i.test(`${e.message} ${(e.cause as Error)?.message ?? ''}`),
      ),
    );
    release();
    expect(JSON.parse(dec.decode((await reply).data))).toMatchObject({ id: 'slow' });
    await closing;
  });
});
