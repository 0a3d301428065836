/**
 * The ops console: a static page over the public API and the console's data routes. Serving it
 * needs no credentials; everything it shows is fetched with the operator's key, so it can show
 * nothing the key couldn't read through the API anyway. No inline script or style anywhere
 * (the CSP forbids both), no eval, no third-party origin.
 */
import { Controller, Get, Header, Inject, Param, Res } from '@nestjs/common';
import { FAVICON_SVG, ConsoleAssets } from './console-assets';
import { consolePage } from './console-page';
import { CONSOLE_JS } from './console-script';
import { CONSOLE_CSS } from './console-style';

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Reply {
  header(name: string, value: string): unknown;
}

@Controller('/console')
export class ConsoleHttpController {
  private readonly html: string;

  constructor(@Inject(ConsoleAssets) private readonly assets: ConsoleAssets) {
    this.html = consolePage({ uplotScript: `/console/vendor/${assets.uplotScript}`, uplotStyle: `/console/vendor/${assets.uplotStyle}` });
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CONSOLE_CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('referrer-policy', 'no-referrer')
  @Header('cache-control', 'no-cache')
  page(): string {
    return this.html;
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

  @Get('/favicon.svg')
  @Header('content-type', 'image/svg+xml')
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'public, max-age=86400')
  icon(): string {
    return FAVICON_SVG;
  }

  /** uPlot's script and style; the name carries the version, so they never change under a URL. */
  @Get('/vendor/:file')
  vendor(@Param('file') file: string, @Res({ passthrough: true }) reply: Reply): Buffer {
    const asset = this.assets.vendorFile(file);
    reply.header('content-type', asset.contentType);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'public, max-age=31536000, immutable');
    return asset.body;
  }
}
