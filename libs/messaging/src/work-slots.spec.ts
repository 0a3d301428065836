import { workSlots } from './work-slots';

describe('workSlots', () => {
  it('runs at most `max` at a time, the rest in the order they came, each with its own result', async () => {
    const slots = workSlots(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const all = gates.map((g, i) =>
      slots(async () => {
        started.push(i);
        most = Math.max(most, ++running);
        await g.promise;
        running -= 1;
        return i * 10;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    gates[0].resolve();
    gates[2].resolve();
    gates[3].resolve();
    gates[4].resolve();
    expect(await Promise.all(all)).toEqual([0, 10, 20, 30, 40]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });

  it('frees the slot of work that failed', async () => {
    const slots = workSlots(1);
    await expect(slots(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await slots(async () => 'next')).toBe('next');
  });
});
