/**
 * The files the console page loads besides its own: uPlot (the chart library, an npm
 * dependency) read once from node_modules and served by the gateway itself, so the page needs
 * no CDN and the CSP can stay `'self'`. Their URLs carry the version, so they are cached for a
 * year; the page's own script and style are revalidated on every load.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NotFoundError } from '@sb/contracts';

export interface Asset {
  body: Buffer;
  contentType: string;
}

function uplot(): { version: string; dir: string } {
  const pkg = require.resolve('uplot/package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  return { version, dir: join(dirname(pkg), 'dist') };
}

export class ConsoleAssets {
  /** `/console/vendor/<name>` → the file. */
  private readonly vendor = new Map<string, Asset>();
  readonly uplotScript: string;
  readonly uplotStyle: string;

  constructor() {
    const { version, dir } = uplot();
    this.uplotScript = `uplot-${version}.min.js`;
    this.uplotStyle = `uplot-${version}.min.css`;
    this.vendor.set(this.uplotScript, { body: readFileSync(join(dir, 'uPlot.iife.min.js')), contentType: 'text/javascript; charset=utf-8' });
    this.vendor.set(this.uplotStyle, { body: readFileSync(join(dir, 'uPlot.min.css')), contentType: 'text/css; charset=utf-8' });
  }

  vendorFile(name: string): Asset {
    const asset = this.vendor.get(name);
    if (!asset) throw new NotFoundError(`No console file ${name}`);
    return asset;
  }
}

/** The console's icon (the browser asks for one; without it every load logs a 404). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1f2a44"/><path d="M9 11h14M9 16h9M9 21h12" stroke="#7aa2ff" stroke-width="3" stroke-linecap="round"/><circle cx="24" cy="16" r="2.5" fill="#5ad19a"/></svg>`;
