/**
 * Splits stripped source (see source-stripper.ts) into words, numbers, literals and operators.
 * Comments and string contents are already gone, so a plain scan is safe here.
 */
import type { LanguageProfile } from './language-profiles';
import { LITERAL_MARK } from './source-stripper';

export interface Token {
  text: string;
  kind: 'word' | 'number' | 'literal' | 'op';
  line: number;
  /** Offset in the source. */
  start: number;
  spaceBefore: boolean;
  spaceAfter: boolean;
  /** First token on its line. */
  lineStart: boolean;
}

const OPS = ['<=>', '===', '!==', '&&=', '||=', '??=', '...', '&&', '||', '??', '?.', '?:', '::', '->', '=>', '==', '!=', '<=', '>=', ':=', '++', '--', '+=', '-=', '*=', '/='];

export function lexStripped(code: string, profile: LanguageProfile): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = true;
  let space = true;
  let i = 0;
  const push = (text: string, kind: Token['kind'], start: number) => {
    const prev = tokens[tokens.length - 1];
    if (prev) prev.spaceAfter = space;
    tokens.push({ text, kind, line, start, spaceBefore: space, spaceAfter: true, lineStart });
    lineStart = false;
    space = false;
  };
  while (i < code.length) {
    const c = code[i];
    if (c === '\n' || c === '\r') {
      if (!(c === '\r' && code[i + 1] === '\n')) line++;
      lineStart = true;
      space = true;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\f' || c === '\v') {
      space = true;
      i++;
    } else if (c === LITERAL_MARK) {
      push('"', 'literal', i++);
    } else if (/[\p{L}_$@]/u.test(c)) {
      const start = i++;
      while (i < code.length && /[\p{L}\p{N}_$]/u.test(code[i])) i++;
      const suffix = code[i];
      if (profile.wordSuffixes?.includes(suffix) && code[i + 1] !== '=') i++;
      push(code.slice(start, i), 'word', start);
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < code.length && /[\p{L}\p{N}_.]/u.test(code[i])) i++;
      push(code.slice(start, i), 'number', start);
    } else {
      const op = OPS.find((o) => code.startsWith(o, i)) ?? c;
      push(op, 'op', i);
      i += op.length;
    }
  }
  const last = tokens[tokens.length - 1];
  if (last) last.spaceAfter = true;
  return tokens;
}
