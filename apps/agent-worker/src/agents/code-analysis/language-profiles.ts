import type { SpecialLiteral } from './literal-scanners';

/**
 * What the generic analyzer needs to know about a language: how its comments and strings look
 * (for source-stripper.ts), which words and operators are decision points, and how blocks are
 * delimited (braces, or keywords closed by `end`/`fi`/`done`).
 */

export interface StringRule {
  open: string;
  close: string;
  /** Backslash escapes the next character. */
  escapes: boolean;
  multiline: boolean;
  /** Start of an interpolated expression (`#{`, `${`, `\(`) whose nested strings must be skipped whole. */
  interpolation?: string;
}

export interface LanguageProfile {
  language: string;
  lineComments: string[];
  blockComments: Array<[string, string]>;
  /** Block comments nest (Rust, Swift, Kotlin, Scala). */
  nestedComments?: boolean;
  /** A `#` comment starts only at the beginning of a word (shell: `$#` and `${#x}` are not comments). */
  commentAtWordStart?: boolean;
  /** Block comments whose markers must open a line (Ruby `=begin` / `=end`). */
  lineBlockComments?: Array<[string, string]>;
  /** Longest opener first. */
  strings: StringRule[];
  /** Language-specific literal forms (see literal-scanners.ts). */
  specialLiterals?: SpecialLiteral[];
  /** Here-documents: `<<~EOS` (Ruby), `<<<EOT` (PHP), `<<EOF` (shell). */
  heredoc?: 'ruby' | 'php' | 'shell';
  decisionWords: string[];
  decisionOps: string[];
  /** Count `?` as a ternary when it has whitespace on both sides. */
  ternary: boolean;
  /** Arms of a pattern match count as decisions: the arrow inside a block opened by `keyword`, except the catch-all. */
  arms?: { keyword: string; arrow: string; catchAll: string };
  /** Function definitions need one of these words in their header (Go `func`, Rust `fn`, ...). */
  functionWords?: string[];
  /** A line break ends a statement (Go, Kotlin, Swift, Scala, shell). */
  newlineEndsStatement?: boolean;
  /** `;` may sit inside a control header (Go `if err := f(); err != nil {`). */
  semicolonInHeader?: boolean;
  /** Ruby method names may end in `?` or `!`. */
  wordSuffixes?: string;
  blocks: 'braces' | 'keywords';
  /** Languages whose `==` coerces types. */
  looseEquality?: boolean;
}

const C_COMMENTS = { lineComments: ['//'], blockComments: [['/*', '*/']] as Array<[string, string]> };
const dq: StringRule = { open: '"', close: '"', escapes: true, multiline: false };
const sq: StringRule = { open: "'", close: "'", escapes: true, multiline: false };
const C_DECISIONS = ['if', 'for', 'while', 'case', 'catch'];
const LOGICAL = ['&&', '||'];

const PROFILES: LanguageProfile[] = [
  { language: 'c', ...C_COMMENTS, strings: [dq, sq], decisionWords: ['if', 'for', 'while', 'case'], decisionOps: LOGICAL, ternary: true, blocks: 'braces' },
  { language: 'cpp', ...C_COMMENTS, strings: [dq, sq], specialLiterals: ['cpp-raw'], decisionWords: C_DECISIONS, decisionOps: LOGICAL, ternary: true, blocks: 'braces' },
  { language: 'java', ...C_COMMENTS, strings: [{ open: '"""', close: '"""', escapes: true, multiline: true }, dq, sq], decisionWords: C_DECISIONS, decisionOps: LOGICAL, ternary: true, blocks: 'braces' },
  {
    language: 'csharp', ...C_COMMENTS,
    strings: [{ open: '"""', close: '"""', escapes: false, multiline: true }, dq, sq],
    specialLiterals: ['csharp-verbatim'],
    decisionWords: [...C_DECISIONS, 'foreach'], decisionOps: [...LOGICAL, '??'], ternary: true, blocks: 'braces',
  },
  {
    language: 'kotlin', ...C_COMMENTS, nestedComments: true,
    strings: [{ open: '"""', close: '"""', escapes: false, multiline: true, interpolation: '${' }, { ...dq, interpolation: '${' }, sq],
    decisionWords: C_DECISIONS, decisionOps: [...LOGICAL, '?:'], ternary: false,
    arms: { keyword: 'when', arrow: '->', catchAll: 'else' },
    functionWords: ['fun', 'constructor'], newlineEndsStatement: true, blocks: 'braces',
  },
  {
    language: 'swift', ...C_COMMENTS, nestedComments: true,
    strings: [{ open: '"""', close: '"""', escapes: true, multiline: true, interpolation: '\\(' }, { ...dq, interpolation: '\\(' }],
    decisionWords: ['if', 'guard', 'for', 'while', 'case', 'catch'], decisionOps: [...LOGICAL, '??'], ternary: true,
    functionWords: ['func', 'init', 'deinit'], newlineEndsStatement: true, blocks: 'braces',
  },
  {
    language: 'go', ...C_COMMENTS,
    strings: [{ open: '`', close: '`', escapes: false, multiline: true }, dq, sq],
    decisionWords: ['if', 'for', 'case'], decisionOps: LOGICAL, ternary: false,
    functionWords: ['func'], newlineEndsStatement: true, semicolonInHeader: true, blocks: 'braces',
  },
  {
    language: 'rust', ...C_COMMENTS, nestedComments: true,
    strings: [dq], specialLiterals: ['rust-raw', 'rust-char'],
    decisionWords: ['if', 'for', 'while'], decisionOps: LOGICAL, ternary: false,
    arms: { keyword: 'match', arrow: '=>', catchAll: '_' },
    functionWords: ['fn'], blocks: 'braces',
  },
  {
    language: 'php', lineComments: ['//', '#'], blockComments: [['/*', '*/']],
    strings: [dq, sq, { open: '`', close: '`', escapes: true, multiline: true }], heredoc: 'php',
    decisionWords: ['if', 'elseif', 'for', 'foreach', 'while', 'case', 'catch', 'and', 'or'], decisionOps: [...LOGICAL, '??'], ternary: true,
    arms: { keyword: 'match', arrow: '=>', catchAll: 'default' },
    functionWords: ['function'], blocks: 'braces', looseEquality: true,
  },
  {
    language: 'scala', ...C_COMMENTS, nestedComments: true,
    strings: [{ open: '"""', close: '"""', escapes: false, multiline: true, interpolation: '${' }, { ...dq, interpolation: '${' }, sq],
    decisionWords: ['if', 'for', 'while', 'case'], decisionOps: LOGICAL, ternary: false,
    functionWords: ['def'], newlineEndsStatement: true, blocks: 'braces',
  },
  {
    language: 'dart', ...C_COMMENTS,
    strings: [{ open: '"""', close: '"""', escapes: true, multiline: true, interpolation: '${' }, { open: "'''", close: "'''", escapes: true, multiline: true, interpolation: '${' }, { ...dq, interpolation: '${' }, { ...sq, interpolation: '${' }],
    decisionWords: C_DECISIONS, decisionOps: [...LOGICAL, '??'], ternary: true, blocks: 'braces',
  },
  {
    language: 'ruby', lineComments: ['#'], blockComments: [], lineBlockComments: [['=begin', '=end']],
    strings: [{ ...dq, multiline: true, interpolation: '#{' }, { ...sq, multiline: true }, { open: '`', close: '`', escapes: true, multiline: true, interpolation: '#{' }],
    specialLiterals: ['ruby-regex', 'ruby-percent'], heredoc: 'ruby',
    decisionWords: ['if', 'elsif', 'unless', 'while', 'until', 'for', 'when', 'rescue', 'and', 'or'], decisionOps: LOGICAL, ternary: true,
    wordSuffixes: '?!', newlineEndsStatement: true, blocks: 'keywords',
  },
  {
    language: 'shell', lineComments: ['#'], blockComments: [], commentAtWordStart: true,
    strings: [{ ...dq, multiline: true, interpolation: '$(' }, { open: "'", close: "'", escapes: false, multiline: true }, { open: '`', close: '`', escapes: true, multiline: true }],
    heredoc: 'shell',
    decisionWords: ['if', 'elif', 'while', 'until', 'for'], decisionOps: LOGICAL, ternary: false,
    newlineEndsStatement: true, blocks: 'keywords',
  },
];

/** For languages without a profile: C-style comments and strings, the usual decision words. */
export const FALLBACK_PROFILE: LanguageProfile = {
  language: 'unknown', ...C_COMMENTS,
  strings: [dq, sq, { open: '`', close: '`', escapes: true, multiline: true }],
  decisionWords: ['if', 'elif', 'elsif', 'elseif', 'unless', 'for', 'foreach', 'while', 'until', 'case', 'when', 'catch', 'except', 'rescue'],
  decisionOps: [...LOGICAL, '??'], ternary: true, blocks: 'braces',
};

const BY_LANGUAGE = new Map(PROFILES.map((p) => [p.language, p]));

export function profileFor(language: string): LanguageProfile | undefined {
  return BY_LANGUAGE.get(language);
}
