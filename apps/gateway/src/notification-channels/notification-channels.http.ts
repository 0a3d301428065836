/** HTTP adapter for /v1/notification-channels. No logic here. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { NotificationChannelsService } from './notification-channels.service';

@Controller('/v1/notification-channels')
export class NotificationChannelsHttpController {
  constructor(@Inject(NotificationChannelsService) private readonly channels: NotificationChannelsService) {}

  @Post()
  @HttpCode(201)
  create(@Headers('authorization') auth: string | undefined, @Body() body: unknown) {
    return this.channels.create(auth, body);
  }

  @Get()
  list(@Headers('authorization') auth: string | undefined) {
    return this.channels.list(auth);
  }

  @Get('/:id')
  get(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.channels.get(auth, id);
  }

  @Patch('/:id')
  update(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.channels.update(auth, id, body);
  }

  @Delete('/:id')
  remove(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.channels.remove(auth, id);
  }

  /** `?limit=1..500` (default 50): the channel's delivery attempts, newest first. */
  @Get('/:id/deliveries')
  deliveries(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Query() query: unknown) {
    return this.channels.deliveries(auth, id, query);
  }

  /** Sends a test notification through the normal outbox and retries. */
  @Post('/:id/test')
  @HttpCode(202)
  test(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.channels.test(auth, id);
  }
}
