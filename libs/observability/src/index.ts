export * from './logger';
export * from './metrics';
export * from './readiness';
export * from './tokens';
export * from './observability.module';
export * from './http-error.filter';
export * from './bootstrap';
export * from './health.controller';
