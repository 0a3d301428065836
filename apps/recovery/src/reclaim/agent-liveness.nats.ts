/** NATS adapter: agents' liveness and task events, for the recovery core (every replica hears them). No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { type AgentLivenessEvent, Events, type TaskEvent } from '@sb/contracts';
import { AgentLivenessHandler } from './agent-liveness.handler';
import { RunningIndex } from './running-index';

@Controller()
export class AgentLivenessNatsController {
  constructor(
    @Inject(AgentLivenessHandler) private readonly liveness: AgentLivenessHandler,
    @Inject(RunningIndex) private readonly index: RunningIndex,
  ) {}

  @EventPattern(Events.agentDown)
  agentDown(@Payload() ev: AgentLivenessEvent | undefined) {
    return this.liveness.onDown(ev);
  }

  @EventPattern(Events.agentUp)
  agentUp(@Payload() ev: AgentLivenessEvent | undefined) {
    return this.liveness.onUp(ev);
  }

  @EventPattern(Events.agentLeft)
  agentLeft(@Payload() ev: AgentLivenessEvent | undefined) {
    return this.liveness.onUp(ev);
  }

  @EventPattern(Events.taskEvent)
  taskEvent(@Payload() ev: TaskEvent | undefined) {
    this.index.onEvent(ev);
  }
}
