/**
 * Language names: fence tags normalised to one id per language (`py` → `python`, `c++` → `cpp`),
 * tags that name data or prose rather than code (json, yaml, text, ...), and a guess from the code
 * itself when there is no tag. The guess weighs characteristic constructs per language; a
 * TypeScript-only sign makes JavaScript evidence count for TypeScript (and C's for C++).
 */

const ALIASES: Record<string, string> = {
  js: 'javascript', javascript: 'javascript', node: 'javascript', nodejs: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascript', es6: 'javascript',
  ts: 'typescript', typescript: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx',
  py: 'python', python: 'python', python3: 'python', py3: 'python', python2: 'python', ipython: 'python',
  c: 'c', h: 'c', cpp: 'cpp', 'c++': 'cpp', cc: 'cpp', cxx: 'cpp', hpp: 'cpp', hxx: 'cpp', ino: 'cpp',
  cs: 'csharp', csharp: 'csharp', 'c#': 'csharp',
  java: 'java', kotlin: 'kotlin', kt: 'kotlin', kts: 'kotlin', swift: 'swift', go: 'go', golang: 'go', rust: 'rust', rs: 'rust',
  php: 'php', ruby: 'ruby', rb: 'ruby', scala: 'scala', sc: 'scala', dart: 'dart',
  sh: 'shell', bash: 'shell', shell: 'shell', zsh: 'shell', ksh: 'shell', shellscript: 'shell',
};

/** Fence tags whose content is data, markup, prose or a terminal transcript: reported as skipped, not analysed. */
const NOT_CODE = new Set([
  'json', 'jsonc', 'json5', 'yaml', 'yml', 'toml', 'ini', 'xml', 'html', 'htm', 'svg', 'css', 'scss', 'sass', 'less', 'csv', 'tsv',
  'text', 'txt', 'plaintext', 'plain', 'md', 'markdown', 'mdx', 'rst', 'diff', 'patch', 'log', 'console', 'output', 'terminal',
  'shell-session', 'sh-session', 'env', 'dotenv', 'properties', 'mermaid', 'dot', 'sql', 'graphql', 'gql', 'dockerfile', 'makefile', 'http',
]);

export function normalizeLanguage(tag: string): string {
  const t = tag.trim().toLowerCase();
  return ALIASES[t] ?? t;
}

export function isNotCode(language: string): boolean {
  return NOT_CODE.has(language);
}

type Rule = [RegExp, number];

const RULES: Record<string, Rule[]> = {
  python: [[/^[ \t]*(async\s+)?def \w+\s*\(.*\)\s*(->\s*[^:\n]+)?:[ \t]*$/m, 4], [/^[ \t]*(elif|except|finally)\b.*:[ \t]*$/m, 3], [/^[ \t]*(if|for|while|with|class|try)\b[^{};\n]*:[ \t]*$/m, 2], [/^[ \t]*(from [\w.]+ )?import [\w.]+(\s+as \w+)?[ \t]*$/m, 1], [/\bself\.\w+/, 1], [/\b(None|True|False)\b/, 1], [/^[ \t]*print\(/m, 1], [/^#!.*python/, 10]],
  typescript: [[/:\s*(string|number|boolean|void|any|unknown|never)\b/, 3], [/^[ \t]*(export\s+)?interface\s+\w+/m, 3], [/^[ \t]*(export\s+)?type\s+\w+(<[^>]*>)?\s*=/m, 3], [/\bas const\b/, 2], [/\)\s*:\s*[\w<>[\]| ]+\s*(=>|\{)/, 2]],
  javascript: [[/\b(const|let|var)\s+\w+\s*=/, 1], [/=>/, 1], [/\bfunction\s*\w*\s*\(/, 2], [/\bconsole\.(log|error|warn|info)\(/, 3], [/\brequire\(['"]/, 3], [/\bmodule\.exports\b/, 3], [/^[ \t]*import .* from ['"]/m, 3], [/^[ \t]*export (default|const|function|class|async)/m, 3], [/===|!==/, 2], [/\b(document|window)\./, 2], [/^#!.*node/, 10]],
  java: [[/\bpublic\s+(static\s+)?(final\s+)?class\s+\w+/, 2], [/System\.out\.print/, 5], [/public static void main\s*\(\s*String/, 5], [/^[ \t]*import java\./m, 5], [/^[ \t]*package [\w.]+;/m, 4], [/@Override\b/, 2], [/\bString\[\]/, 2]],
  csharp: [[/^[ \t]*using System/m, 5], [/\bConsole\.Write(Line)?\(/, 5], [/^[ \t]*namespace [\w.]+/m, 2], [/\{\s*get;\s*(set;|init;)?\s*\}/, 4], [/\bpublic\s+(async\s+)?Task\b/, 3], [/\bvar\s+\w+\s*=\s*new\b/, 1]],
  go: [[/^[ \t]*package \w+[ \t]*$/m, 4], [/\bfunc\s+(\(\w+\s+\*?\w+\)\s*)?\w+\s*\(/, 4], [/:=/, 2], [/\bfmt\.\w+\(/, 4], [/\berr != nil\b/, 4], [/^[ \t]*import \([ \t]*$/m, 3], [/\bchan\b|\bgo func\b/, 2]],
  rust: [[/\bfn\s+\w+\s*(<[^>]*>)?\s*\(/, 4], [/\blet\s+mut\b/, 4], [/\bimpl\b(<[^>]*>)?\s+\w+/, 3], [/\b(println|format|vec|panic)!/, 4], [/^[ \t]*use \w+(::\w+)+/m, 4], [/&str\b|&mut\b/, 3], [/\bpub(\(crate\))?\s+(fn|struct|enum)\b/, 4]],
  c: [[/^[ \t]*#include\s*<\w+\.h>/m, 4], [/\bprintf\s*\(/, 2], [/\b(malloc|free)\s*\(/, 2], [/\bint\s+main\s*\(/, 2], [/\bNULL\b/, 1], [/\bstruct\s+\w+\s*\{/, 1]],
  cpp: [[/^[ \t]*#include\s*<(iostream|vector|string|map|memory|algorithm|unordered_map)>/m, 5], [/\bstd::/, 4], [/\bcout\s*<</, 4], [/\btemplate\s*</, 3], [/\bnullptr\b/, 3], [/^[ \t]*(public|private|protected):[ \t]*$/m, 2]],
  php: [[/<\?php/, 10], [/\$\w+\s*=[^=]/, 3], [/\$this->/, 5], [/\bfunction\s+\w+\s*\(\s*\$/, 4]],
  ruby: [[/^[ \t]*def\s+[\w?!.]+(\s*\(.*\))?[ \t]*$/m, 3], [/^[ \t]*end[ \t]*$/m, 3], [/\bputs\s/, 3], [/\bdo\s*\|[\w, ]+\|/, 4], [/\battr_(accessor|reader|writer)\b/, 5], [/^[ \t]*require\s+['"]/m, 2], [/\belsif\b/, 4], [/^[ \t]*class\s+\w+(\s*<\s*[\w:]+)?[ \t]*$/m, 2], [/^#!.*ruby/, 10]],
  kotlin: [[/\bfun\s+\w+\s*\(/, 4], [/\bval\s+\w+(\s*:\s*\w+)?\s*=/, 2], [/\bdata class\b/, 4], [/\bwhen\s*(\(.*\))?\s*\{/, 2]],
  swift: [[/\bfunc\s+\w+\s*(<[^>]*>)?\s*\(/, 3], [/\bguard\s+(let|var)?\b/, 4], [/^[ \t]*import (UIKit|Foundation|SwiftUI)/m, 5], [/\bvar\s+\w+\s*:\s*\w+/, 1]],
  scala: [[/\bdef\s+\w+(\[[^\]]*\])?\s*\([^)]*\)\s*:\s*\w+/, 4], [/\bobject\s+\w+\s*(extends\s+\w+)?\s*\{/, 4], [/\bcase class\b/, 5]],
  dart: [[/\bimport\s+'package:/, 5], [/\bWidget\b/, 3], [/\bvoid main\(\)\s*\{/, 1]],
  shell: [[/^#!.*\b(ba|z|k)?sh\b/, 10], [/^[ \t]*(if|while)\s+\[\[?\s/m, 4], [/^[ \t]*fi[ \t]*$/m, 5], [/^[ \t]*done[ \t]*$/m, 4], [/^[ \t]*esac[ \t]*$/m, 5], [/^[ \t]*echo\s/m, 2], [/^[ \t]*(export\s+)?[A-Z_][A-Z0-9_]*=/m, 2]],
};

/** Below this score the code is not recognised: it is analysed with the generic rules as `unknown`. */
const MIN_SCORE = 2;
/** Detection looks at the start of the code only; that is where the tell-tale lines are. */
const SAMPLE_CHARS = 20_000;

export function detectLanguage(code: string): string {
  const sample = code.slice(0, SAMPLE_CHARS);
  const scores = new Map<string, number>();
  for (const [language, rules] of Object.entries(RULES)) {
    scores.set(language, rules.reduce((sum, [re, weight]) => sum + (re.test(sample) ? weight : 0), 0));
  }
  const add = (to: string, from: string) => {
    if (scores.get(to)! > 0) scores.set(to, scores.get(to)! + scores.get(from)!);
  };
  add('typescript', 'javascript');
  add('cpp', 'c');
  let best = 'unknown';
  let bestScore = MIN_SCORE - 1;
  for (const [language, score] of scores) {
    if (score > bestScore) [best, bestScore] = [language, score];
  }
  return best;
}
