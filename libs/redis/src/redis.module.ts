import { type DynamicModule, Global, Module } from '@nestjs/common';
import { RateLimiter } from './rate-limiter';
import { REDIS_OPTIONS, RedisClient, type RedisModuleOptions } from './redis-client';

/** The service's Redis connection, key builder and rate limiter. Needs ObservabilityModule (global). */
@Global()
@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: REDIS_OPTIONS, useValue: options },
        RedisClient,
        { provide: RateLimiter, useFactory: (redis: RedisClient) => new RateLimiter(redis), inject: [RedisClient] },
      ],
      exports: [RedisClient, RateLimiter, REDIS_OPTIONS],
    };
  }
}
