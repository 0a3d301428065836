/**
 * Scanners for language-specific literal forms, used by source-stripper.ts. Each takes the source
 * and a position and returns where the literal ends (exclusive), or undefined if none starts there.
 * Sticky regexes only recognise an opener's shape; bodies are walked character by character.
 */

export type SpecialLiteral = 'rust-raw' | 'rust-char' | 'cpp-raw' | 'csharp-verbatim' | 'ruby-regex' | 'ruby-percent';

const PAIRS: Record<string, string> = { '(': ')', '[': ']', '{': '}', '<': '>' };
const REGEX_AFTER_WORDS = new Set(['if', 'elsif', 'unless', 'when', 'and', 'or', 'not', 'return', 'while', 'until']);

/** Longest regex literal looked for; a longer run is taken as division. Keeps scanning linear. */
const MAX_REGEX_LENGTH = 1_000;

/**
 * @param before a short tail of the stripped text before `pos` (comments and literals already
 *               blanked), used to tell a Ruby regex `/.../` from a division.
 */
export function scanSpecialLiteral(kind: SpecialLiteral, src: string, pos: number, before: () => string): number | undefined {
  const wordBefore = pos > 0 && /[\w$]/.test(src[pos - 1]);
  switch (kind) {
    case 'rust-raw': {
      const hit = wordBefore ? null : match(/b?r(#*)"/y, src, pos);
      return hit ? until(src, pos + hit[0].length, `"${hit[1]}`) : undefined;
    }
    case 'rust-char': {
      // A char literal; otherwise the quote is a lifetime or label such as 'a.
      const hit = match(/'(?:\\(?:u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2}|.)|[^\\'\n\r])'/uy, src, pos);
      return hit ? pos + hit[0].length : undefined;
    }
    case 'cpp-raw': {
      const hit = wordBefore ? null : match(/(?:u8|[uUL])?R"([^()\\\s]{0,16})\(/y, src, pos);
      return hit ? until(src, pos + hit[0].length, `)${hit[1]}"`) : undefined;
    }
    case 'csharp-verbatim':
      return verbatim(src, pos);
    case 'ruby-regex':
      return src[pos] === '/' && regexAllowed(before()) ? regexEnd(src, pos) : undefined;
    case 'ruby-percent':
      return percentLiteral(src, pos);
  }
}

function match(re: RegExp, src: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(src);
}

/** Position after `close`, searching from `from`; an unterminated literal runs to the end. */
function until(src: string, from: number, close: string): number {
  const at = src.indexOf(close, from);
  return at < 0 ? src.length : at + close.length;
}

/** C# `@"..."` (also `$@"` / `@$"`): no backslash escapes, `""` is a quote, may span lines. */
function verbatim(src: string, pos: number): number | undefined {
  const open = ['@"', '$@"', '@$"'].find((o) => src.startsWith(o, pos));
  if (!open) return undefined;
  let i = pos + open.length;
  while (i < src.length) {
    if (src.startsWith('""', i)) i += 2;
    else if (src[i] === '"') return i + 1;
    else i++;
  }
  return src.length;
}

/** A `/` starts a regex after an operator, an opening bracket, a line start or a keyword like `if`. */
function regexAllowed(before: string): boolean {
  const lastBreak = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r'));
  const trimmed = before.slice(lastBreak + 1).replace(/[ \t]+$/, '');
  const last = trimmed[trimmed.length - 1];
  if (last === undefined) return true;
  if ('(,=!~&|?:;{['.includes(last)) return true;
  const word = /[A-Za-z_]+$/.exec(trimmed);
  return word !== null && REGEX_AFTER_WORDS.has(word[0]);
}

function regexEnd(src: string, pos: number): number | undefined {
  let inClass = false;
  const limit = Math.min(src.length, pos + MAX_REGEX_LENGTH);
  for (let i = pos + 1; i < limit; i++) {
    const c = src[i];
    if (c === '\n' || c === '\r') return undefined;
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      let end = i + 1;
      while (/[a-z]/.test(src[end] ?? '')) end++;
      return end;
    }
  }
  return undefined;
}

/** Ruby `%w[a b]`, `%q(...)`, `%r{...}`, `%(...)`: only after whitespace or an opening bracket, so `a % b` stays an operator. */
function percentLiteral(src: string, pos: number): number | undefined {
  const prev = src[pos - 1];
  if (prev !== undefined && !/[\s(,=[{]/.test(prev)) return undefined;
  const hit = match(/%[qQwWiIrsx]?([^\w\s=])/y, src, pos);
  if (!hit) return undefined;
  const open = hit[1];
  const close = PAIRS[open] ?? open;
  let depth = 1;
  for (let i = pos + hit[0].length; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === close && --depth === 0) return i + 1;
    else if (c === open && open !== close) depth++;
  }
  return src.length;
}
