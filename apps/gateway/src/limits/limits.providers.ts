import type { Provider } from '@nestjs/common';
import { APP_CONFIG, type AppLogger, LOGGER } from '@sb/observability';
import { RateLimiter } from '@sb/redis';
import type { GatewayConfig } from '../config';
import { LocalLimiter } from '../tasks/local-limiter';
import { ReadLimitInterceptor } from './read-limit.interceptor';
import { ReadLimits } from './read-limits';

/** The per-key read budget and the interceptor `@ReadLimited()` puts on read routes. */
export const limitProviders: Provider[] = [
  {
    provide: ReadLimits,
    inject: [RateLimiter, APP_CONFIG, LOGGER],
    useFactory: (r: RateLimiter, cfg: GatewayConfig, logger: AppLogger) =>
      new ReadLimits(r, new LocalLimiter(cfg.GATEWAY_REPLICAS), { rate: cfg.KEY_READ_RATE, burst: cfg.KEY_READ_BURST }, logger),
  },
  ReadLimitInterceptor,
];
