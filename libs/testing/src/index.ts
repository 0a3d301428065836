// @sb/testing — what int and e2e tests use to get real NATS/Redis, unique
// names, and event-driven waits. Servers come from global-setup.ts (jest).
export { testEnv } from './test-env';
export type { TestEnv } from './test-env';
export type { TestServersMode } from './global-state';
export { randomToken, redisKeyPrefix, uniqueName, uniquePrefix } from './names';
export { eventually } from './eventually';
export type { EventuallyOptions } from './eventually';
export { cleanupJetStream, collectMessages, decodeMessage, waitForMessage } from './nats-helpers';
export type { MessageCollector, MessageWaiter, ReceivedMessage, WaitForMessageOptions } from './nats-helpers';
export { cleanupRedisKeys } from './redis-helpers';
export * from './local-servers';
export * from './secure-nats';
export * from './nats-cluster';
export { startRedisSentinelSet } from './redis-sentinel';
export type { MasterSwitch, RedisSentinelSet, RedisSentinelSetOptions, SentinelProcess } from './redis-sentinel';
