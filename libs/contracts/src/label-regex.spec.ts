import { MatcherSchema, SilenceInputSchema } from './alerting-schemas';
import { compileLabelRegex, MAX_LABEL_REGEX_PROGRAM } from './label-regex';

const issues = (value: string) => {
  const r = MatcherSchema.safeParse({ name: 'agent', op: '=~', value });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('label matcher regexes', () => {
  it('accepts RE2 patterns, the backtracking bombs among them (they run in linear time)', () => {
    for (const ok of ['(.*){40}x', 'host_down|HostDown', '.+', '(?i)api-[a-z0-9]+', '\\pL{0,500}']) expect(issues(ok)).toEqual([]);
  });

  it('refuses at validation what RE2 cannot run or what is too large a program, naming the field', () => {
    for (const bad of ['(a)\\1', '(?=x)y', '(?<!a)b', 'a)|(b', '[', 'x{1001}', '\\pL{1000}|\\pN{1000}']) {
      expect(issues(bad)).toEqual([expect.stringMatching(/^value: (not a valid RE2 regular expression|regular expression too complex)/)]);
    }
    const silence = SilenceInputSchema.safeParse({ matchers: [{ name: 'agent', op: '!~', value: '(a)\\1' }], endsAt: '2030-01-01T00:00:00Z', comment: 'x' });
    expect(silence.success).toBe(false);
  });

  it('leaves = and != values alone (they are not patterns)', () => {
    expect(MatcherSchema.safeParse({ name: 'agent', op: '=', value: '(a)\\1' }).success).toBe(true);
  });

  it('caps the compiled program', () => {
    // RE2 itself refuses a repeat count over 1,000; alternatives add up to the cap.
    const near = Math.floor(MAX_LABEL_REGEX_PROGRAM / 2) - 10;
    expect(compileLabelRegex(`a{${near}}|b{${near}}`)).toHaveProperty('test');
    expect(compileLabelRegex(`a{${near}}|b{${near}}|c{20}`)).toHaveProperty('error');
  });
});
