/** HTTP adapter for a task's trace timeline. No logic here. */
import { Controller, Get, Headers, Inject, Param } from '@nestjs/common';
import { TaskTraceHandler } from './task-trace.handler';

@Controller('/v1/tasks')
export class TaskTraceHttpController {
  constructor(@Inject(TaskTraceHandler) private readonly handler: TaskTraceHandler) {}

  /** Spans by service and agent, queued vs running time, attempts, critical path and gaps. */
  @Get('/:id/trace')
  trace(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.handler.handle(auth, id);
  }
}
