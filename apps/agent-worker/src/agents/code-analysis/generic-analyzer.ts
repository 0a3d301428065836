/**
 * Analysis for languages without a parser here (C, C++, Java, C#, Go, Rust, Kotlin, Swift, PHP,
 * Scala, Dart, Ruby, shell, and anything else with C-style defaults). Strings and comments are
 * first removed by a state machine (source-stripper.ts); decision keywords and operators are then
 * counted on what is left, and blocks come from braces or keyword pairs.
 *
 * Decision points: the profile's keywords (if, for, while, case, catch, ...; `else if` counts once),
 * `&&`, `||` (and `??`, `and`, `or` where the language has them), `?` of a ternary (spaced on
 * both sides), and match/when arms except the catch-all.
 */
import { braceStructure } from './brace-structure';
import type { Token } from './generic-lexer';
import { lexStripped } from './generic-lexer';
import { keywordStructure } from './keyword-structure';
import type { LanguageProfile } from './language-profiles';
import { FALLBACK_PROFILE, profileFor } from './language-profiles';
import { TODO_PATTERN } from './line-tally';
import type { SourceComment } from './source-stripper';
import { stripSource } from './source-stripper';
import type { BlockMetrics, Issue } from './types';

const GOTO_LANGUAGES = new Set(['c', 'cpp', 'csharp', 'go', 'php']);

export function analyzeGeneric(code: string, language: string): BlockMetrics {
  const known = profileFor(language);
  const profile = known ?? FALLBACK_PROFILE;
  const { code: stripped, comments, tally } = stripSource(code, profile);
  const tokens = lexStripped(stripped, profile);
  const structure = profile.blocks === 'keywords' ? keywordStructure(tokens, profile) : braceStructure(tokens, profile);
  const { functions, owner } = structure;

  let decisions = 0;
  const count = (i: number) => {
    decisions++;
    if (owner[i] >= 0) functions[owner[i]].complexity++;
  };
  tokens.forEach((t, i) => {
    if (isDecision(t, tokens[i - 1], profile)) count(i);
  });
  structure.armTokens.forEach(count);

  const issues: Issue[] = [];
  if (!known) {
    issues.push({ rule: 'generic-analysis', severity: 'info', message: `No dedicated analyzer for "${language}": counted with generic C-style rules, so numbers are approximate` });
  }
  todoIssues(comments, issues);
  for (const h of structure.emptyHandlers) {
    if (!comments.some((c) => c.start > h.from && c.start < h.to)) {
      issues.push({ rule: 'empty-catch', severity: 'warning', line: h.line, message: 'Empty catch block silently swallows the error' });
    }
  }
  for (const t of tokens) {
    if (profile.looseEquality && (t.text === '==' || t.text === '!=')) {
      issues.push({ rule: 'eqeqeq', severity: 'warning', line: t.line, message: `Loose comparison coerces types; use \`${t.text}=\`` });
    }
    if (t.text === 'goto' && GOTO_LANGUAGES.has(profile.language)) {
      issues.push({ rule: 'goto', severity: 'info', line: t.line, message: '`goto` makes control flow hard to follow' });
    }
  }
  return {
    language,
    ...tally.counts(),
    cyclomaticComplexity: 1 + decisions,
    functions,
    maxNesting: functions.reduce((max, f) => Math.max(max, f.maxNesting), structure.topNesting),
    issues: issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)),
  };
}

function isDecision(t: Token, prev: Token | undefined, profile: LanguageProfile): boolean {
  if (prev?.text === '.' || prev?.text === '->' || prev?.text === '::') return false; // member access: `x.if`, `$o->for`
  if (t.kind === 'word') return profile.decisionWords.includes(t.text);
  if (t.kind !== 'op') return false;
  if (profile.decisionOps.includes(t.text)) return true;
  if (t.text.endsWith('=') && t.text.length === 3 && profile.decisionOps.includes(t.text.slice(0, 2))) return true; // `&&=`, `||=`, `??=`
  return profile.ternary && t.text === '?' && t.spaceBefore && t.spaceAfter;
}

function todoIssues(comments: SourceComment[], issues: Issue[]): void {
  for (const c of comments) {
    const todo = TODO_PATTERN.exec(c.text);
    if (!todo) continue;
    const line = c.line + (c.text.slice(0, todo.index).match(/\r\n|\r|\n/g)?.length ?? 0);
    issues.push({ rule: 'todo-comment', severity: 'info', line, message: `${todo[1]} comment: unfinished work` });
  }
}
