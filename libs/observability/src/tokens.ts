/** Injection tokens shared by every service. */
export const LOGGER = Symbol('LOGGER');
export const APP_CONFIG = Symbol('APP_CONFIG');
/** The service's Nest transport strategy for the bus (provided by the messaging module). */
export const TRANSPORT_STRATEGY = Symbol('TRANSPORT_STRATEGY');
