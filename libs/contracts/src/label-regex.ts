/**
 * Regular expressions in label matchers (`=~`, `!~`): RE2 syntax, as Prometheus and Alertmanager
 * use, run by re2js (a pure-JS port of RE2J) in time linear in the label value's length. A
 * JavaScript RegExp backtracks: a 512-character pattern such as `(.*){40}x` could hold the event
 * loop for minutes. RE2 refuses what needs backtracking (backreferences, lookaround), and the
 * compiled program is capped so one matcher costs at most a few milliseconds on a label value.
 * Fully anchored: the whole value must match.
 */
import { RE2JS } from 're2js';

/** RE2 instructions in one compiled matcher (`.{500}` is about 500; `\pL{1000}|\pN{1000}` is refused). */
export const MAX_LABEL_REGEX_PROGRAM = 2_000;

export interface LabelRegex {
  /** True when the whole value matches. */
  test(value: string): boolean;
}

/** The compiled matcher, or why the pattern is refused (syntax, or too large a program). */
export function compileLabelRegex(source: string): LabelRegex | { error: string } {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (e) {
    return { error: `not a valid RE2 regular expression (${String((e as Error)?.message ?? e).slice(0, 160)})` };
  }
  if (re.programSize() > MAX_LABEL_REGEX_PROGRAM) {
    return { error: `regular expression too complex (more than ${MAX_LABEL_REGEX_PROGRAM} RE2 instructions)` };
  }
  return { test: (value) => re.testExact(value) };
}
