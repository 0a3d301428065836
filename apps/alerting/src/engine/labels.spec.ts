import { fingerprint, matchAll, matches, renderTemplate } from './labels';

describe('label matchers', () => {
  const labels = { agent: 'w-1', host: 'h1', severity: 'critical' };
  it('supports =, !=, =~ and !~ with anchored regexes and missing labels as empty', () => {
    expect(matches({ name: 'agent', op: '=', value: 'w-1' }, labels)).toBe(true);
    expect(matches({ name: 'agent', op: '!=', value: 'w-1' }, labels)).toBe(false);
    expect(matches({ name: 'agent', op: '=~', value: 'w-.*' }, labels)).toBe(true);
    expect(matches({ name: 'agent', op: '=~', value: 'w' }, labels)).toBe(false); // anchored
    expect(matches({ name: 'host', op: '!~', value: 'h[0-9]' }, labels)).toBe(false);
    expect(matches({ name: 'zone', op: '=', value: '' }, labels)).toBe(true);
    expect(matchAll([{ name: 'agent', op: '=~', value: '.+' }, { name: 'host', op: '=', value: 'h2' }], labels)).toBe(false);
  });
});

describe('regex matchers (RE2, linear time)', () => {
  const labels = { agent: 'w-1', host: 'h1' };
  it('answers a backtracking bomb such as (.*){40}x on a long value, and correctly', () => {
    const bomb = { name: 'agent', op: '=~' as const, value: '(.*){40}x' };
    // A JavaScript RegExp takes minutes on 40 characters of this; RE2 is linear in the value.
    expect(matches(bomb, { agent: 'a'.repeat(100_000) })).toBe(false);
    expect(matches(bomb, { agent: `${'a'.repeat(100_000)}x` })).toBe(true);
    expect(matches({ ...bomb, op: '!~' }, { agent: 'a'.repeat(100_000) })).toBe(true);
  });

  it('speaks RE2 syntax, as Prometheus does, and is still fully anchored', () => {
    expect(matches({ name: 'agent', op: '=~', value: '(?i)W-1' }, labels)).toBe(true);
    expect(matches({ name: 'host', op: '=~', value: '[[:alpha:]][[:digit:]]' }, labels)).toBe(true);
    expect(matches({ name: 'agent', op: '=~', value: 'w-1|nope' }, labels)).toBe(true);
    expect(matches({ name: 'agent', op: '=~', value: '-1' }, labels)).toBe(false);
  });

  it('a stored pattern RE2 refuses (kept from before) matches nothing, either way round', () => {
    for (const value of ['(w)\\1', '(?=w)w-1', 'w-1)|(x']) {
      expect(matches({ name: 'agent', op: '=~', value }, labels)).toBe(false);
      expect(matches({ name: 'agent', op: '!~', value }, labels)).toBe(false);
    }
  });
});

describe('fingerprint', () => {
  it('depends on name and labels, not on label order', () => {
    expect(fingerprint('A', { x: '1', y: '2' })).toBe(fingerprint('A', { y: '2', x: '1' }));
    expect(fingerprint('A', { x: '1' })).not.toBe(fingerprint('B', { x: '1' }));
    expect(fingerprint('A', { x: '1' })).not.toBe(fingerprint('A', { x: '2' }));
    expect(fingerprint('A', { x: '1' })).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('annotation templates', () => {
  it('substitutes labels and the value, and leaves anything else alone', () => {
    expect(renderTemplate('Agent {{ $labels.agent }} at {{$value}} ({{ $labels.missing }})', { agent: 'w-1' }, 0.123456789)).toBe('Agent w-1 at 0.123457 ()');
    const hostile = '{{ constructor.constructor("return process")() }} {{ $labels.__proto__ }}';
    expect(renderTemplate(hostile, {}, 1)).toBe('{{ constructor.constructor("return process")() }} ');
    expect(renderTemplate('{{ $value }}', {}, null)).toBe('');
  });
});
