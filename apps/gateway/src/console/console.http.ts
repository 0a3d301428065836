/**
 * The ops console: a static page over the public API (fleet, alerts, incidents, dead letters,
 * live tasks). Serving it needs no credentials; everything it shows is fetched with the
 * operator's key, so it can show nothing the key couldn't read through the API anyway.
 */
import { Controller, Get, Header } from '@nestjs/common';
import { CONSOLE_CSS, CONSOLE_HTML } from './console-page';
import { CONSOLE_JS } from './console-script';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

@Controller('/console')
export class ConsoleHttpController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  @Header('cache-control', 'no-cache')
  page(): string {
    return CONSOLE_HTML;
  }

  @Get('/console.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'no-cache')
  script(): string {
    return CONSOLE_JS;
  }

  @Get('/console.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'no-cache')
  style(): string {
    return CONSOLE_CSS;
  }
}
