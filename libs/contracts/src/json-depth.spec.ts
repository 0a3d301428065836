import { boundedJson, jsonDepth, MAX_JSON_DEPTH } from './json-depth';

const nested = (n: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { k: v };
  return v;
};

describe('bounded JSON nesting', () => {
  it('measures nesting of objects and arrays; scalars are depth 0', () => {
    expect(jsonDepth('x')).toBe(0);
    expect(jsonDepth(null)).toBe(0);
    expect(jsonDepth({})).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] })).toBe(3);
    expect(jsonDepth(nested(10))).toBe(10);
  });

  it('accepts the limit and refuses one level past it', () => {
    expect(boundedJson.safeParse(nested(MAX_JSON_DEPTH)).success).toBe(true);
    const r = boundedJson.safeParse(nested(MAX_JSON_DEPTH + 1));
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('checks 100,000 levels without overflowing the stack (it stops past the limit)', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(jsonDepth(deep)).toBe(MAX_JSON_DEPTH + 1);
    expect(boundedJson.safeParse(deep).success).toBe(false);
  });
});
