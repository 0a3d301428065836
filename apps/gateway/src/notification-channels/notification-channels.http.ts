/** HTTP adapter for /v1/notification-channels (admin to change or test, alerts:read to read). No logic here. */
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { CreateChannelSchema } from '@sb/contracts';
import { contract } from '@sb/messaging';
import type { z } from 'zod';
import { RequireScope } from '../auth/auth.guard';
import { NotificationChannelsService } from './notification-channels.service';
import { ReadLimited } from '../limits/read-limit.interceptor';

@Controller('/v1/notification-channels')
@ReadLimited()
export class NotificationChannelsHttpController {
  constructor(@Inject(NotificationChannelsService) private readonly channels: NotificationChannelsService) {}

  @Post()
  @HttpCode(201)
  @RequireScope('admin')
  create(@Body(contract(CreateChannelSchema)) body: z.output<typeof CreateChannelSchema>) {
    return this.channels.create(body);
  }

  @Get()
  @RequireScope('alerts:read')
  list() {
    return this.channels.list();
  }

  @Get('/:id')
  @RequireScope('alerts:read')
  get(@Param('id') id: string) {
    return this.channels.get(id);
  }

  @Patch('/:id')
  @RequireScope('admin')
  update(@Param('id') id: string, @Body() body: unknown) {
    return this.channels.update(id, body);
  }

  @Delete('/:id')
  @RequireScope('admin')
  remove(@Param('id') id: string) {
    return this.channels.remove(id);
  }

  /** `?limit=1..500` (default 50): the channel's delivery attempts, newest first. */
  @Get('/:id/deliveries')
  @RequireScope('alerts:read')
  deliveries(@Param('id') id: string, @Query() query: unknown) {
    return this.channels.deliveries(id, query);
  }

  /** Sends a test notification through the normal outbox and retries. */
  @Post('/:id/test')
  @HttpCode(202)
  @RequireScope('admin')
  test(@Param('id') id: string) {
    return this.channels.test(id);
  }
}
