export * from './nats-security';
export * from './service-creds';
