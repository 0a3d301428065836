export * from './bus-interceptor';
export * from './bus-interceptors';
export * from './contract.pipe';
export * from './decorators';
export * from './patterns';
export * from './sb-client.proxy';
export * from './sb-context';
export * from './sb-transport.strategy';
