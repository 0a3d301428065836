/**
 * At most `max` pieces of work at a time; the rest wait their turn, in order. A burst of
 * thousands of events (a mass failure: every agent's down event, then every agent's alert) then
 * holds `max` pieces of work in flight, with their KV round trips and what they read, while the
 * others wait as the small events they are: the memory in use stays bounded, whatever the burst.
 */
export type WorkSlots = <T>(work: () => Promise<T>) => Promise<T>;

export function workSlots(max: number): WorkSlots {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    // A slot that is given up goes straight to the first one waiting (nobody jumps the queue).
    if (running < max) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
