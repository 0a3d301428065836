/**
 * NATS adapter for the collector, declared for the bus transport. No logic here: messages feed
 * FleetCollector, with the headers agent protocol v1 reads (`Authorization` on register,
 * `Sb-Agent-Session` on everything an agent sends). Heartbeats, metrics, deregistrations,
 * liveness, alert and key-revocation events reach every replica (each keeps the whole view);
 * requests are served in the service's queue group. The periodic jobs and the registry snapshot
 * are CollectorJobs'.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { AGENT_SESSION_HEADER, type AgentLivenessEvent, type AlertEvent, type BreakerState, type Deregistration, DeregistrationSchema, FleetEndpoints, Events, Headers, type ParsedReqOf, type ShedState } from '@sb/contracts';
import { contract, type SbContext } from '@sb/messaging';
import { FleetCollector } from './collector';
import { AgentCredentials } from './registry/agent-credentials';

type Req<E> = ParsedReqOf<E>;
/** An event body as it arrives: JSON-decoded, not yet checked (undefined when empty, not JSON or too large). */
type Body<T> = Partial<T> | undefined;

@Controller()
export class CollectorNatsController {
  constructor(
    @Inject(FleetCollector) private readonly c: FleetCollector,
    @Inject(AgentCredentials) private readonly credentials: AgentCredentials,
  ) {}

  @EventPattern(Events.agentUp)
  agentUp(@Payload() ev: Body<AgentLivenessEvent>): void {
    this.c.onLivenessEvent('up', ev);
  }

  @EventPattern(Events.agentDown)
  agentDown(@Payload() ev: Body<AgentLivenessEvent>): void {
    this.c.onLivenessEvent('down', ev);
  }

  @EventPattern(Events.agentLeft)
  agentLeft(@Payload() ev: Body<AgentLivenessEvent>): void {
    this.c.onLivenessEvent('left', ev);
  }

  @EventPattern(Events.heartbeat)
  heartbeat(@Payload() body: unknown, @Ctx() ctx: SbContext): void | Promise<void> {
    return this.c.onHeartbeat(ctx.lastToken, body, ctx.header(AGENT_SESSION_HEADER));
  }

  @EventPattern(Events.metricBatch)
  metricBatch(@Payload() body: unknown, @Ctx() ctx: SbContext): void | Promise<void> {
    return this.c.onMetricBatch(ctx.lastToken, body, ctx.header(AGENT_SESSION_HEADER));
  }

  @EventPattern(Events.deregister)
  async deregister(@Payload(contract(DeregistrationSchema)) d: Deregistration, @Ctx() ctx: SbContext): Promise<void> {
    await this.c.onDeregister(d, ctx.header(AGENT_SESSION_HEADER));
  }

  @EventPattern(Events.keyRevoked)
  keyRevoked(@Payload() notice: unknown): void {
    this.credentials.keyRevoked(notice);
  }

  @EventPattern(Events.alert)
  alert(@Payload() ev: Body<AlertEvent>): void {
    this.c.alerts.apply(ev);
  }

  @EventPattern(Events.shedding)
  shedding(@Payload() s: ShedState | undefined): void {
    this.c.recovery.applyShed(s);
  }

  @EventPattern(Events.breaker)
  breaker(@Payload() b: BreakerState | undefined): void {
    this.c.recovery.applyBreaker(b);
  }

  @MessagePattern(FleetEndpoints.register)
  register(@Payload(contract(FleetEndpoints.register)) req: Req<typeof FleetEndpoints.register>, @Ctx() ctx: SbContext) {
    return this.c.registration.register(req, { authorization: ctx.header(Headers.Authorization), session: ctx.header(AGENT_SESSION_HEADER) });
  }

  @MessagePattern(FleetEndpoints.agents)
  agents(@Payload(contract(FleetEndpoints.agents)) req: Req<typeof FleetEndpoints.agents>) {
    return this.c.overview.page(req);
  }

  @MessagePattern(FleetEndpoints.overview)
  overview(@Payload(contract(FleetEndpoints.overview)) _req: Req<typeof FleetEndpoints.overview>) {
    return this.c.overview.overview();
  }

  @MessagePattern(FleetEndpoints.report)
  report(@Payload(contract(FleetEndpoints.report)) req: Req<typeof FleetEndpoints.report>) {
    return this.c.reports.report(req.hours, req.limit);
  }
}
