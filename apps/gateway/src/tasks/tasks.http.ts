/** HTTP adapter for tasks. Headers in, TasksService, JSON out. */
import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { Headers } from '@sb/contracts';
import { type RateLimitInfo, rateLimitHeaders } from './submit-limits';
import { type RequestMeta, TasksService } from './tasks.service';

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
}

function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function httpMeta(req: HttpRequest): RequestMeta {
  return {
    authorization: header(req, Headers.Authorization),
    idempotencyKey: header(req, Headers.IdempotencyKey),
    traceparent: header(req, Headers.TraceParent),
    transport: 'http',
  };
}

@Controller('/v1/tasks')
export class TasksHttpController {
  constructor(@Inject(TasksService) private readonly tasks: TasksService) {}

  /** 202 with `{taskId, status: "queued"}`; 200 with the finished record when `wait` is true. */
  @Post()
  async submit(@Body() body: unknown, @Req() req: HttpRequest, @Res({ passthrough: true }) res: { status(code: number): unknown; header(name: string, value: string): unknown }) {
    // RateLimit-* go on refusals as well: set before the error filter sends the reply.
    const onRateLimit = (info: RateLimitInfo) => {
      for (const [k, v] of Object.entries(rateLimitHeaders(info))) res.header(k, v);
    };
    const out = await this.tasks.submit(body, { ...httpMeta(req), onRateLimit });
    res.status('capability' in out ? 200 : 202);
    return out;
  }

  @Get()
  list(@Query() query: unknown, @Req() req: HttpRequest) {
    return this.tasks.list(query, httpMeta(req));
  }

  @Get('/:id')
  get(@Param('id') id: string, @Req() req: HttpRequest) {
    return this.tasks.get({ taskId: id }, httpMeta(req));
  }

  @Get('/:id/wait')
  wait(@Param('id') id: string, @Query() query: unknown, @Req() req: HttpRequest) {
    return this.tasks.wait(id, query, httpMeta(req));
  }

  @Delete('/:id')
  cancel(@Param('id') id: string, @Req() req: HttpRequest) {
    return this.tasks.cancel({ taskId: id }, httpMeta(req));
  }
}
