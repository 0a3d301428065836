export * from './subjects';
export * from './errors';
export * from './schemas';
export * from './endpoints';
export * from './auth-endpoints';
export * from './tenancy-contract';
export * from './fleet-schemas';
export * from './alert-notification';
