/**
 * The internal service-call path (the gateway asking auth to authorize a credential), three
 * ways, each with the responder and the requester on connections of their own:
 *
 *  - plain:      nats.js `nc.request()` (one muxed reply inbox) and a subscription that
 *                answers; JSON encode/decode by hand. The floor.
 *  - switchboard: `Bus.request(Endpoints.authorize)` → a controller method declared with
 *                `@MessagePattern(Endpoints.authorize)` and served by the SbTransport strategy,
 *                each in a minimal Nest app built from `coreImports()` like every service's root
 *                module (contract pipe validation, guards/pipes pipeline, RED metrics, error
 *                mapping and time-limit interceptors included).
 *  - nest:       Nest's stock NATS `ClientProxy` → a Nest NATS microservice with a
 *                `@MessagePattern` handler, both with their default options.
 *
 * NATS authentication is on: the Switchboard pair connect as the auth and gateway services' own
 * users (serviceCreds), the plain floor and Nest's stock transport as platform users.
 */
import 'reflect-metadata';
import { Controller, type DynamicModule, type INestApplication, type INestMicroservice, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, type MicroserviceOptions, Payload, Transport } from '@nestjs/microservices';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Endpoints, type Principal } from '@sb/contracts';
import { Bus, contract, coreImports } from '@sb/messaging';
import { createServiceApp } from '@sb/observability';
import { firstValueFrom } from 'rxjs';
import type { BenchNats } from './bench-nats';
import type { Target } from './floor';

const PRINCIPAL: Principal = { keyId: 'key_bench', tenantId: 'tn_bench', scopes: ['tasks:submit', 'tasks:read'], expiresAt: null };
const REQUEST = { keyDigest: '0'.repeat(64) };
const PLAIN_SUBJECT = 'bench.plain.authorize';
const NEST_PATTERN = 'bench.authorize';
const BUS_PREFIX = 'benchbus';
const TIMEOUT_MS = 5_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Plain nats.js request-reply: the floor for internal calls. */
export async function startPlainRequestReply(nats: BenchNats): Promise<Target> {
  const server: NatsConnection = await connect(await nats.platform('bench-plain-responder'));
  const client: NatsConnection = await connect(await nats.platform('bench-plain-requester'));
  server.subscribe(PLAIN_SUBJECT, {
    queue: 'bench.plain',
    callback: (err, msg) => {
      if (err) return;
      JSON.parse(dec.decode(msg.data));
      msg.respond(enc.encode(JSON.stringify(PRINCIPAL)));
    },
  });
  await server.flush();
  return {
    op: async () => {
      const reply = await client.request(PLAIN_SUBJECT, enc.encode(JSON.stringify(REQUEST)), { timeout: TIMEOUT_MS });
      return JSON.parse(dec.decode(reply.data)) as Principal;
    },
    close: async () => {
      await client.drain().catch(() => undefined);
      await server.drain().catch(() => undefined);
    },
  };
}

@Module({})
class BusBenchModule {}

@Controller()
class BusAuthorizeController {
  @MessagePattern(Endpoints.authorize)
  authorize(@Payload(contract(Endpoints.authorize)) _req: { keyDigest: string }): Principal {
    return PRINCIPAL;
  }
}

async function busApp(service: string, nats: BenchNats, user: 'auth' | 'gateway', controllers: Type[] = []): Promise<INestApplication> {
  const config = { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 1_000 };
  const core = { NATS_URL: nats.url, SB_PREFIX: BUS_PREFIX, REQUEST_TIMEOUT_MS: TIMEOUT_MS, ...(await nats.serviceEnv(BUS_PREFIX, user)) };
  const module = (logger: Parameters<typeof coreImports>[2]): DynamicModule => ({ module: BusBenchModule, imports: coreImports(service, core, logger), controllers });
  const { app } = await createServiceApp({ service, config, module });
  await app.init();
  return app;
}

/** Switchboard's own path: Bus.request → @MessagePattern on SbTransport, as gateway → auth. */
export async function startSwitchboardBus(nats: BenchNats): Promise<Target> {
  // Service names of their own, so their NATS connections are not mistaken for the fleet's.
  // The transport subscribes at bootstrap and flushes, so the handler is known to the server here.
  const auth = await busApp('bus-auth', nats, 'auth', [BusAuthorizeController]);
  const gateway = await busApp('bus-gateway', nats, 'gateway');
  const bus = gateway.get(Bus);
  return {
    op: () => bus.request(Endpoints.authorize, REQUEST),
    close: async () => {
      await gateway.close().catch(() => undefined);
      await auth.close().catch(() => undefined);
    },
  };
}

@Controller()
class NestAuthorizeController {
  @MessagePattern(NEST_PATTERN)
  authorize(@Payload() _req: { keyDigest: string }): Principal {
    return PRINCIPAL;
  }
}

@Module({ controllers: [NestAuthorizeController] })
class NestAuthBenchModule {}

/** What a user would pick instead: Nest's stock NATS transport, default options. */
export async function startNestClientProxy(nats: BenchNats): Promise<Target> {
  // Default options but the credentials (Nest passes them through to nats.js).
  const user = async (name: string) => ({ servers: [nats.url], authenticator: (await nats.platform(name)).authenticator });
  const server: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(NestAuthBenchModule, {
    transport: Transport.NATS,
    options: await user('bench-nest-server'),
    logger: false,
  });
  await server.listen();
  const client = ClientProxyFactory.create({ transport: Transport.NATS, options: await user('bench-nest-client') });
  await client.connect();
  return {
    op: () => firstValueFrom(client.send<Principal>(NEST_PATTERN, REQUEST)),
    close: async () => {
      await client.close();
      await server.close().catch(() => undefined);
    },
  };
}
