/** HTTP adapter for dead letters. No logic here. */
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { DeadLettersService } from './dead-letters.service';

@Controller('/v1/dead-letters')
export class DeadLettersHttpController {
  constructor(@Inject(DeadLettersService) private readonly deadLetters: DeadLettersService) {}

  /** `?capability=&tenant=&limit=1..1000&since=<ISO time>`, newest first, with poison fingerprints. */
  @Get()
  list(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.deadLetters.list(auth, query);
  }

  /** `?capability=`: remove every dead letter (of one capability) the caller may see. */
  @Delete()
  purge(@Headers('authorization') auth: string | undefined, @Query() query: unknown) {
    return this.deadLetters.purge(auth, query);
  }

  @Get('/:id')
  get(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.deadLetters.get(auth, id);
  }

  /** Body optional: `{"input"?: any, "priority"?: "low|normal|high"}`. */
  @Post('/:id/redrive')
  @HttpCode(202)
  redrive(@Headers('authorization') auth: string | undefined, @Param('id') id: string, @Body() body: unknown) {
    return this.deadLetters.redrive(auth, id, body);
  }

  @Delete('/:id')
  delete(@Headers('authorization') auth: string | undefined, @Param('id') id: string) {
    return this.deadLetters.delete(auth, id);
  }
}
