/** NATS adapter: a cancel or timeout broadcast aborts the task if it runs here. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import type { SbContext } from '@sb/messaging';
import { AbortRegistry } from './abort-registry';

@Controller()
export class TaskAbortNatsController {
  constructor(@Inject(AbortRegistry) private readonly aborts: AbortRegistry) {}

  /** `…tasks.abort.<taskId>`: the task id is the subject's last token. */
  @EventPattern(Events.taskAbort)
  abort(@Ctx() ctx: SbContext): void {
    this.aborts.abort(ctx.lastToken, 'cancelled');
  }
}
