/**
 * JSON that comes in from outside (task input and metadata, an agent's result and progress) is
 * bounded in nesting: a value nested thousands deep parses fine, then overflows the stack of
 * every JSON.stringify that stores or sends it. The walk is iterative, so the check itself
 * cannot overflow.
 */
import { z } from 'zod';

/** Deepest nesting accepted (objects and arrays), generous for real inputs. */
export const MAX_JSON_DEPTH = 64;

/** How deeply `value` nests, counting until `limit` is passed (then limit + 1). */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Any JSON value nested at most MAX_JSON_DEPTH deep. */
export const boundedJson: z.ZodType<unknown> = z.unknown().superRefine((v, ctx) => {
  if (jsonDepth(v) > MAX_JSON_DEPTH) ctx.addIssue({ code: 'custom', message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
});
