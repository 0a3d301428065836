/** Injection tokens of the recovery service. */
export const RECOVERY_CONFIG = Symbol('RECOVERY_CONFIG');
