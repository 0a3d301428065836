/** NATS adapter: what load shedding hears about fleet capacity (every replica, so a new leader starts warm). No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import type { SbContext } from '@sb/messaging';
import { SheddingService } from './shedding.service';

/** `<prefix>.v1.agents.<agentId>.<state>` (names().agents.livenessOf; a prefix holds no dots): the agent id's token. */
const LIVENESS_AGENT_TOKEN = 3;

@Controller()
export class SheddingNatsController {
  constructor(@Inject(SheddingService) private readonly shedding: SheddingService) {}

  @EventPattern(Events.heartbeat)
  heartbeat(@Payload() body: unknown) {
    this.shedding.heartbeat(body);
  }

  @EventPattern(Events.deregister)
  deregister(@Payload() body: unknown) {
    this.shedding.deregistered(body);
  }

  @EventPattern(Events.agentDown)
  agentDown(@Ctx() ctx: SbContext) {
    this.shedding.agentGone(ctx.token(LIVENESS_AGENT_TOKEN));
  }

  @EventPattern(Events.agentLeft)
  agentLeft(@Ctx() ctx: SbContext) {
    this.shedding.agentGone(ctx.token(LIVENESS_AGENT_TOKEN));
  }
}
