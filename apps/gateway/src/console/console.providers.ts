/** The console's controllers and providers, as the gateway module composes them. */
import type { Provider } from '@nestjs/common';
import { ConsoleApiHttpController } from './console-api.http';
import { ConsoleAssets } from './console-assets';
import { ConsoleHttpController } from './console.http';
import { ConsoleSeries } from './series/console-series';
import { ConsoleSeriesNatsController } from './series/console-series.nats';

export const consoleControllers = [ConsoleHttpController, ConsoleApiHttpController, ConsoleSeriesNatsController];
export const consoleProviders: Provider[] = [{ provide: ConsoleAssets, useFactory: () => new ConsoleAssets() }, ConsoleSeries];
