import { canonicalJson, fingerprint } from './fingerprint';

describe('poison-task fingerprint', () => {
  it('canonical JSON sorts keys recursively and ignores whitespace and key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(JSON.parse('{ "b" : 1,\n "a" : 2 }'))).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('keeps array order, normalises -0 and drops undefined like JSON does', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
    expect(canonicalJson({ n: -0 })).toBe('{"n":0}');
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
    expect(canonicalJson([undefined])).toBe('[null]');
    expect(canonicalJson('é"\n')).toBe(JSON.stringify('é"\n'));
  });

  it('is stable for the same capability, input and error code, and differs otherwise', () => {
    const a = fingerprint('llm', { prompt: 'x', opts: { t: 1, k: 2 } }, 'AGENT.ERROR');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint('llm', { opts: { k: 2, t: 1 }, prompt: 'x' }, 'AGENT.ERROR')).toBe(a);
    expect(fingerprint('llm2', { prompt: 'x', opts: { t: 1, k: 2 } }, 'AGENT.ERROR')).not.toBe(a);
    expect(fingerprint('llm', { prompt: 'y', opts: { t: 1, k: 2 } }, 'AGENT.ERROR')).not.toBe(a);
    expect(fingerprint('llm', { prompt: 'x', opts: { t: 1, k: 2 } }, 'AGENT.OTHER')).not.toBe(a);
    // The boundaries between the parts cannot be shifted to collide.
    expect(fingerprint('a', 'b', 'c')).not.toBe(fingerprint('a\n"b"', null, 'c'));
  });
});
