export * from './parse-config';
export * from './redis-config';
