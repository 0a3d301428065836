import { Controller, Get } from '@nestjs/common';
import { openApiDocument } from './openapi.document';

@Controller()
export class OpenApiController {
  private readonly doc = openApiDocument();
  @Get('/openapi.json')
  get() {
    return this.doc;
  }
}
