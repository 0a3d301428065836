export * from './subjects';
export * from './errors';
export * from './schemas';
export * from './endpoints';
