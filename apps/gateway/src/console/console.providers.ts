/** The console's controllers and providers, as the gateway module composes them. */
import type { Provider } from '@nestjs/common';
import { ConsoleApiHttpController } from './console-api.http';
import { ConsoleAssets } from './console-assets';
import { ConsoleHttpController } from './console.http';
import { ConsoleSeries } from './series/console-series';

export const consoleControllers = [ConsoleHttpController, ConsoleApiHttpController];
export const consoleProviders: Provider[] = [{ provide: ConsoleAssets, useFactory: () => new ConsoleAssets() }, ConsoleSeries];
