export * from './redis-keys';
export * from './redis-client';
export * from './rate-limit.script';
export * from './rate-limiter';
export * from './redis.module';
