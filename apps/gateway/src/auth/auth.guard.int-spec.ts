/**
 * The AuthGuard on both transports of one app, against a real NATS server: the credential is
 * checked before the body (a bad credential wins over a bad body), a missing permission is 403,
 * the principal reaches the handler through @CurrentPrincipal(), refusals carry their security
 * event with the transport and route, and a handler's @RequestSpan is open around the check.
 */
import { Body, Controller, type DynamicModule, Get, Module, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { Endpoints, InvalidCredentialsError, names, type ParsedReqOf, type Principal } from '@sb/contracts';
import { contract, coreImports, NatsClient, type SecurityEventInput } from '@sb/messaging';
import { activeSpan, createLogger, createServiceApp } from '@sb/observability';
import { testEnv, uniquePrefix } from '@sb/testing';
import { z } from 'zod';
import { AuthGuard, RequireScope } from './auth.guard';
import { NatsAccountCheck } from './nats-account-check';
import { PreAuthLimiter } from './pre-auth-limiter';
import { Authenticator } from './authenticator';
import { GatewayAuthenticator } from './authenticator.provider';
import { currentRequest, HttpRequestContext, type RequestInfo } from './request-context';
import { RequestSpan, RequestSpans, SpanTraceparent } from './request-span';
import { CurrentPrincipal } from './request-state';

const KEYS: Record<string, Principal> = {
  sbk_submitter: { keyId: 'key_s', tenantId: 'acme', scopes: ['tasks:submit'] },
  sbk_reader: { keyId: 'key_r', tenantId: 'acme', scopes: ['tasks:read'] },
  sbk_fleet: { keyId: 'key_f', tenantId: 'acme', scopes: ['fleet:read'] },
};
const NumberBody = z.object({ n: z.number() }).strict();

/** What the authenticator saw: the span active while it asked "auth". */
const seen: { authorizeSpan?: string; handlerSpan?: string; spanTraceparent?: string; request?: RequestInfo } = {};

@Controller()
class GuardedController {
  @Post('/t')
  @RequireScope('tasks:submit')
  submit(@Body(contract(NumberBody)) body: z.output<typeof NumberBody>, @CurrentPrincipal() p: Principal) {
    seen.request = currentRequest();
    return { n: body.n, tenantId: p.tenantId, keyId: p.keyId };
  }

  @Post('/traced')
  @RequireScope('tasks:submit')
  @RequestSpan('test.traced')
  traced(@SpanTraceparent() spanTraceparent: string | undefined) {
    seen.handlerSpan = activeSpan()?.spanContext().spanId;
    seen.spanTraceparent = spanTraceparent;
    return {};
  }

  @Get('/open')
  open() {
    return { open: true };
  }

  @MessagePattern(Endpoints.cancelTask, { span: 'test.traced.nats' })
  @RequireScope('tasks:submit')
  tracedOverNats(@SpanTraceparent() spanTraceparent: string | undefined) {
    seen.handlerSpan = activeSpan()?.spanContext().spanId;
    seen.spanTraceparent = spanTraceparent;
    return {};
  }

  @MessagePattern(Endpoints.getTask)
  @RequireScope('tasks:read', 'tasks:submit')
  get(@Payload(contract(Endpoints.getTask)) req: ParsedReqOf<typeof Endpoints.getTask>, @CurrentPrincipal() p: Principal) {
    return { taskId: req.taskId, keyId: p.keyId };
  }
}

@Module({})
class GuardTestModule {}

describe('AuthGuard (HTTP and NATS)', () => {
  const prefix = uniquePrefix();
  const n = names(prefix);
  const events: SecurityEventInput[] = [];
  let app: NestFastifyApplication;
  let nc: NatsClient['nc'];
  let url: string;

  beforeAll(async () => {
    const logger = createLogger('test', 'silent');
    const authenticator = new Authenticator(
      {
        authorize: async (credential) => {
          seen.authorizeSpan = activeSpan()?.spanContext().spanId;
          const p = KEYS[credential];
          if (!p) throw new InvalidCredentialsError();
          return p;
        },
      },
      0,
      Date.now,
      { events: (e) => events.push(e) },
    );
    const config = { NATS_URL: testEnv().natsUrl, SB_PREFIX: prefix, REQUEST_TIMEOUT_MS: 2000 };
    const module = (): DynamicModule => ({
      module: GuardTestModule,
      imports: coreImports('gateway-guard-test', config, logger),
      controllers: [GuardedController],
      providers: [{ provide: GatewayAuthenticator, useValue: authenticator }, AuthGuard, RequestSpans, HttpRequestContext, NatsAccountCheck, PreAuthLimiter],
    });
    ({ app } = await createServiceApp({ service: 'gateway-guard-test', config: { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: 1_000 }, module, logger }));
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    nc = app.get(NatsClient).nc;
  });
  afterAll(() => app?.close());

  const post = async (path: string, body: string, key?: string) => {
    const r = await fetch(url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) } });
    return { status: r.status, body: await r.json() };
  };
  const request = async (body: string, key?: string) => {
    const h = natsHeaders();
    if (key) h.set('Authorization', `Bearer ${key}`);
    const r = await nc.request(n.tasks.get, new TextEncoder().encode(body), { headers: h, timeout: 5_000 });
    return { code: r.headers?.get('Nats-Service-Error-Code') || undefined, body: JSON.parse(new TextDecoder().decode(r.data)) };
  };

  it('over HTTP: checks the credential before the body, then the permission, and hands over the principal', async () => {
    expect(await post('/t', '{"n":"not a number"}')).toEqual({ status: 401, body: { error: expect.objectContaining({ code: 'AUTH.INVALID_CREDENTIALS', message: expect.stringMatching(/^Missing Authorization header/) }) } });
    expect(await post('/t', '{"n":"not a number"}', 'sbk_wrong')).toEqual({ status: 401, body: { error: { code: 'AUTH.INVALID_CREDENTIALS', message: 'Missing or invalid credentials', retryable: false } } });
    expect(await post('/t', '{"n":"not a number"}', 'sbk_reader')).toMatchObject({ status: 403, body: { error: { code: 'AUTH.FORBIDDEN', message: 'This key lacks the tasks:submit permission' } } });
    expect(await post('/t', '{"n":"not a number"}', 'sbk_submitter')).toMatchObject({ status: 400, body: { error: { code: 'REQUEST.INVALID' } } });
    expect(await post('/t', '{"n":7}', 'sbk_submitter')).toEqual({ status: 201, body: { n: 7, tenantId: 'acme', keyId: 'key_s' } });
    expect(await (await fetch(`${url}/open`)).json()).toEqual({ open: true });
  });

  it('over NATS: the same order and errors from the Authorization message header, and the principal', async () => {
    expect(await request('{"taskId":"bad id!"}')).toMatchObject({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS' } } });
    expect(await request('{"taskId":"bad id!"}', 'sbk_wrong')).toEqual({ code: '401', body: { error: { code: 'AUTH.INVALID_CREDENTIALS', message: 'Missing or invalid credentials', retryable: false } } });
    expect(await request('{"taskId":"bad id!"}', 'sbk_fleet')).toMatchObject({ code: '403', body: { error: { code: 'AUTH.FORBIDDEN', message: 'This key lacks the tasks:read or tasks:submit permission' } } });
    expect(await request('{"taskId":"bad id!"}', 'sbk_reader')).toMatchObject({ code: '400', body: { error: { code: 'REQUEST.INVALID' } } });
    expect(await request('{"taskId":"t1"}', 'sbk_reader')).toEqual({ code: undefined, body: { taskId: 't1', keyId: 'key_r' } });
  });

  it('says on which transport and route each refusal happened', () => {
    expect(events).toContainEqual(expect.objectContaining({ type: 'invalid_credentials', transport: 'http', route: 'POST /t' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'forbidden', transport: 'http', route: 'POST /t', keyId: 'key_r' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'forbidden', transport: 'nats', keyId: 'key_f' }));
    expect(events.filter((e) => e.transport === 'nats').every((e) => e.route === undefined)).toBe(true);
  });

  it('runs an HTTP handler with its transport and route known (for the security events it causes)', async () => {
    seen.request = undefined;
    expect((await post('/t', '{"n":1}', 'sbk_submitter')).status).toBe(201);
    expect(seen.request).toEqual({ transport: 'http', route: 'POST /t' });
  });

  it('authenticates inside the handler\'s @RequestSpan, which stays active for the handler', async () => {
    seen.authorizeSpan = undefined;
    expect((await post('/traced', '{}', 'sbk_submitter')).status).toBe(201);
    expect(seen.authorizeSpan).toEqual(expect.stringMatching(/^[0-9a-f]{16}$/));
    expect(seen.handlerSpan).toBe(seen.authorizeSpan);
    expect(seen.spanTraceparent).toContain(seen.authorizeSpan);
  });

  it('authenticates over NATS inside the span the bus opens for the handler, which stays active for it', async () => {
    seen.authorizeSpan = undefined;
    seen.handlerSpan = undefined;
    const h = natsHeaders();
    h.set('Authorization', 'Bearer sbk_submitter');
    await nc.request(n.tasks.cancel, JSON.stringify({ taskId: 'tsk_x' }), { headers: h, timeout: 2_000 });
    expect(seen.authorizeSpan).toEqual(expect.stringMatching(/^[0-9a-f]{16}$/));
    expect(seen.handlerSpan).toBe(seen.authorizeSpan);
    expect(seen.spanTraceparent).toContain(seen.authorizeSpan);
  });
});
