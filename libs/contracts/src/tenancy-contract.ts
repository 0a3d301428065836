/** Everything tenancy adds to the contract, exported from one place. */
export * from './tenancy-schemas';
export * from './tenancy-errors';
export * from './tenancy-endpoints';
