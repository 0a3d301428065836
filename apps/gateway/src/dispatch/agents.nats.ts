/**
 * NATS adapter of agent protocol v1's work verbs (docs/agent-protocol.md) and the events the
 * dispatcher follows. The agent speaking is the subject's agent id; pipes validate every body
 * against the contract, so a malformed request changes nothing.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { AGENT_SESSION_HEADER, AgentEndpoints, Events, isPriority, type ParsedReqOf } from '@sb/contracts';
import { contract, NatsClient, type SbContext } from '@sb/messaging';
import { Dispatcher } from './dispatcher';
import { TaskSource } from './task-source';

type Req<E> = ParsedReqOf<E>;
/** A result or an input may be large; nothing else an agent sends is. */
const LARGE = { maxPayloadBytes: 8 * 1024 * 1024 };

@Controller()
export class AgentWorkNatsController {
  constructor(
    @Inject(Dispatcher) private readonly dispatcher: Dispatcher,
    @Inject(TaskSource) private readonly source: TaskSource,
    @Inject(NatsClient) client: NatsClient,
  ) {
    this.agentsPrefix = `${client.names.prefix}.v1.agents.`;
    this.instanceId = client.self.instanceId;
  }

  private readonly agentsPrefix: string;
  /** This process: its own enqueue hints come back to it, and are skipped (TaskQueue woke its takes in process). */
  private readonly instanceId: string;

  @MessagePattern(AgentEndpoints.take)
  async take(@Payload(contract(AgentEndpoints.take)) req: Req<typeof AgentEndpoints.take>, @Ctx() ctx: SbContext) {
    const agent = await this.speaker(ctx, 'take');
    return { tasks: await this.dispatcher.take(agent, req) };
  }

  @MessagePattern(AgentEndpoints.keepAlive)
  async keepAlive(@Payload(contract(AgentEndpoints.keepAlive)) req: Req<typeof AgentEndpoints.keepAlive>, @Ctx() ctx: SbContext) {
    return this.dispatcher.keepAlive(await this.speaker(ctx, 'keepalive'), req.leases);
  }

  @MessagePattern(AgentEndpoints.progress, { maxPayloadBytes: 64 * 1024 })
  async progress(@Payload(contract(AgentEndpoints.progress)) req: Req<typeof AgentEndpoints.progress>, @Ctx() ctx: SbContext) {
    return this.dispatcher.progress(await this.speaker(ctx, 'progress'), req);
  }

  @MessagePattern(AgentEndpoints.complete, LARGE)
  async complete(@Payload(contract(AgentEndpoints.complete)) req: Req<typeof AgentEndpoints.complete>, @Ctx() ctx: SbContext) {
    return this.dispatcher.complete(await this.speaker(ctx, 'complete'), req);
  }

  @MessagePattern(AgentEndpoints.fail)
  async fail(@Payload(contract(AgentEndpoints.fail)) req: Req<typeof AgentEndpoints.fail>, @Ctx() ctx: SbContext) {
    return this.dispatcher.fail(await this.speaker(ctx, 'fail'), req);
  }

  /** The collector declared an agent down: its leases here go back to the queue at once. */
  @EventPattern(Events.agentDown)
  agentDown(@Payload() ev: unknown, @Ctx() ctx: SbContext) {
    // `<prefix>.v1.agents.<agentId>.down`
    this.dispatcher.agentDown(this.agent(ctx), eventTime(ev));
  }

  /** An agent left (deregistered): what it still held goes back at once too. */
  @EventPattern(Events.agentLeft)
  agentLeft(@Payload() ev: unknown, @Ctx() ctx: SbContext) {
    this.dispatcher.agentDown(this.agent(ctx), eventTime(ev));
  }

  @EventPattern(Events.agentUp)
  agentUp(@Payload() _ev: unknown, @Ctx() ctx: SbContext) {
    this.dispatcher.agentUp(this.agent(ctx));
  }

  /** Work was queued for a capability: takes waiting for it look again (this process's own hints woke them already, in process). */
  @EventPattern(Events.taskReady)
  taskReady(@Payload() body: unknown, @Ctx() ctx: SbContext) {
    if ((body as { from?: unknown } | undefined)?.from === this.instanceId) return;
    // `<prefix>.internal.tasks.ready.<capability>.<priority>`
    const tokens = ctx.subject.split('.').length;
    const priority = ctx.token(tokens - 1);
    this.source.hinted(ctx.token(tokens - 2), isPriority(priority) ? priority : undefined);
  }

  /** A task ended away from its agent (cancelled): the agent holding it is told to stop. */
  @EventPattern(Events.taskAbort)
  taskAbort(@Payload() _body: unknown, @Ctx() ctx: SbContext) {
    this.dispatcher.aborted(ctx.lastToken);
  }

  /** The agent speaking: the id in its subject, if the message carries that id's session. */
  private async speaker(ctx: SbContext, verb: string): Promise<string> {
    const agent = this.agent(ctx);
    await this.dispatcher.authenticate(agent, ctx.header(AGENT_SESSION_HEADER), verb);
    return agent;
  }

  /** `<prefix>.v1.agents.<agentId>.<verb>[.<dispatcher>]`: the agent id in the subject. */
  private agent(ctx: SbContext): string {
    return ctx.subject.slice(this.agentsPrefix.length).split('.', 1)[0];
  }
}

/** A liveness event's time (the collector's clock), when it carries a valid one. */
function eventTime(ev: unknown): number | undefined {
  const at = Date.parse(String((ev as { at?: unknown } | null)?.at ?? ''));
  return Number.isFinite(at) ? at : undefined;
}
