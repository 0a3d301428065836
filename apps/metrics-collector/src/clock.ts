/** Milliseconds since the epoch. Injected everywhere time matters, so tests drive time. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
