/**
 * A character-level state machine that removes comments and string contents from source text,
 * so keyword and operator counts never see them. The output keeps every line break (line numbers
 * stay valid): comments become spaces, and each literal becomes LITERAL_MARK followed by spaces.
 * It also classifies lines (code / comment / blank) and collects the comments.
 *
 * States: code → block comment (nesting where the language allows) | line comment | string
 * (escapes, interpolation with nested strings) | special literal (literal-scanners.ts) |
 * here-document body (from the line after its opener to the terminator line).
 */
import type { LanguageProfile, StringRule } from './language-profiles';
import { LineTally, splitLines } from './line-tally';
import { scanSpecialLiteral } from './literal-scanners';

/** Stands for a whole string/char/regex literal in the stripped text. */
export const LITERAL_MARK = '\u0001';

export interface SourceComment {
  start: number;
  end: number;
  line: number;
  text: string;
}

export interface StrippedSource {
  code: string;
  comments: SourceComment[];
  tally: LineTally;
}

const CLOSERS: Record<string, string> = { '{': '}', '(': ')' };
/** How much stripped text before a `/` decides whether it starts a regex. */
const LOOKBEHIND = 64;
/** Strings nested in interpolations deeper than this are skipped as plain string content. */
const MAX_INTERPOLATION_DEPTH = 16;
const HEREDOC: Record<NonNullable<LanguageProfile['heredoc']>, RegExp> = {
  ruby: /<<[~-]?(["'`]?)([A-Za-z_]\w*)\1/y,
  php: /<<<[ \t]*(["']?)([A-Za-z_]\w*)\1/y,
  shell: /<<-?[ \t]*(["']?)([A-Za-z_]\w*)\1/y,
};

export function stripSource(src: string, profile: LanguageProfile): StrippedSource {
  return new Stripper(src, profile).run();
}

class Stripper {
  private pos = 0;
  private line = 1;
  private readonly out: string[];
  private readonly comments: SourceComment[] = [];
  private readonly tally: LineTally;
  private readonly pendingHeredocs: string[] = [];

  constructor(private readonly src: string, private readonly p: LanguageProfile) {
    this.out = src.split('');
    this.tally = new LineTally(splitLines(src));
  }

  run(): StrippedSource {
    const s = this.src;
    while (this.pos < s.length) {
      const ch = s[this.pos];
      if (ch === '\n' || ch === '\r') {
        this.lineBreak();
        if (this.pendingHeredocs.length > 0) this.heredocBodies();
        continue;
      }
      if (this.lineBlockComment() || this.comment() || this.special() || this.string()) continue;
      if (ch.trim() !== '') this.tally.markCode(this.line);
      this.pos++;
    }
    return { code: this.out.join(''), comments: this.comments, tally: this.tally };
  }

  private at(text: string): boolean {
    return this.src.startsWith(text, this.pos);
  }

  private lineBreak(): void {
    if (this.src[this.pos] === '\r' && this.src[this.pos + 1] === '\n') this.pos++;
    this.pos++;
    this.line++;
  }

  /** Advances one character inside a comment or literal, counting line breaks. */
  private step(): void {
    const c = this.src[this.pos];
    if (c === '\n' || c === '\r') this.lineBreak();
    else this.pos++;
  }

  /** Blanks `start..end`, moves there, and records the span as a comment or a literal. */
  private consume(start: number, end: number, kind: 'comment' | 'literal'): void {
    const startLine = this.line;
    while (this.pos < end) this.step();
    for (let i = start; i < end; i++) if (this.out[i] !== '\n' && this.out[i] !== '\r') this.out[i] = ' ';
    if (kind === 'literal') {
      this.out[start] = LITERAL_MARK;
      this.tally.markCode(startLine, this.line);
    } else {
      this.tally.markComment(startLine, this.line);
      this.comments.push({ start, end, line: startLine, text: this.src.slice(start, end) });
    }
  }

  private lineEnd(from: number): number {
    let i = from;
    while (i < this.src.length && this.src[i] !== '\n' && this.src[i] !== '\r') i++;
    return i;
  }

  private nextLine(from: number): number {
    const end = this.lineEnd(from);
    return this.src[end] === '\r' && this.src[end + 1] === '\n' ? end + 2 : end + 1;
  }

  /** Ruby `=begin` ... `=end`, both at the start of a line. */
  private lineBlockComment(): boolean {
    const prev = this.src[this.pos - 1];
    if (prev !== undefined && prev !== '\n' && prev !== '\r') return false;
    const pair = (this.p.lineBlockComments ?? []).find(([open]) => this.at(open));
    if (!pair) return false;
    let lineStart = this.nextLine(this.pos);
    while (lineStart < this.src.length && !this.src.startsWith(pair[1], lineStart)) lineStart = this.nextLine(lineStart);
    this.consume(this.pos, Math.min(this.src.length, this.lineEnd(lineStart)), 'comment');
    return true;
  }

  private comment(): boolean {
    const start = this.pos;
    for (const [open, close] of this.p.blockComments) {
      if (!this.at(open)) continue;
      let depth = 0;
      let i = start;
      while (i < this.src.length) {
        if (this.src.startsWith(open, i)) {
          depth = this.p.nestedComments ? depth + 1 : 1;
          i += open.length;
        } else if (this.src.startsWith(close, i)) {
          i += close.length;
          if (--depth === 0) break;
        } else i++;
      }
      this.consume(start, Math.min(i, this.src.length), 'comment');
      return true;
    }
    for (const open of this.p.lineComments) {
      if (!this.at(open)) continue;
      if (this.p.commentAtWordStart && start > 0 && !/[\s;(]/.test(this.src[start - 1])) continue;
      this.consume(start, this.lineEnd(start), 'comment');
      return true;
    }
    return false;
  }

  private string(): boolean {
    const rule = this.p.strings.find((r) => this.at(r.open));
    if (!rule) return false;
    const start = this.pos;
    this.consume(start, this.stringEnd(rule, start + rule.open.length, 0), 'literal');
    return true;
  }

  /** End of a literal whose body starts at `from` (or the line break, if it may not span lines). */
  private stringEnd(rule: StringRule, from: number, level: number): number {
    const s = this.src;
    let i = from;
    while (i < s.length) {
      const c = s[i];
      if (rule.escapes && c === '\\') i += 2;
      else if (rule.interpolation && level < MAX_INTERPOLATION_DEPTH && s.startsWith(rule.interpolation, i)) {
        i = this.interpolationEnd(i + rule.interpolation.length, rule.interpolation.slice(-1), level + 1);
      }
      else if (s.startsWith(rule.close, i)) return i + rule.close.length;
      else if ((c === '\n' || c === '\r') && !rule.multiline) return i;
      else i++;
    }
    return s.length;
  }

  /** End of an interpolated expression opened by `open`, skipping nested literals whole. */
  private interpolationEnd(from: number, open: string, level: number): number {
    const close = CLOSERS[open] ?? open;
    let depth = 1;
    let i = from;
    while (i < this.src.length) {
      const nested = this.p.strings.find((r) => this.src.startsWith(r.open, i));
      if (nested) {
        i = this.stringEnd(nested, i + nested.open.length, level);
        continue;
      }
      const c = this.src[i++];
      if (c === open) depth++;
      else if (c === close && --depth === 0) return i;
    }
    return this.src.length;
  }

  private special(): boolean {
    const start = this.pos;
    const before = () => this.out.slice(Math.max(0, start - LOOKBEHIND), start).join('');
    for (const kind of this.p.specialLiterals ?? []) {
      const end = scanSpecialLiteral(kind, this.src, start, before);
      if (end !== undefined && end > start) {
        this.consume(start, end, 'literal');
        return true;
      }
    }
    return this.heredocOpener();
  }

  /** A here-document opener is a literal token; its body starts on the next line. */
  private heredocOpener(): boolean {
    if (!this.p.heredoc) return false;
    const re = HEREDOC[this.p.heredoc];
    re.lastIndex = this.pos;
    const hit = re.exec(this.src);
    if (!hit) return false;
    this.pendingHeredocs.push(hit[2]);
    this.consume(this.pos, this.pos + hit[0].length, 'literal');
    return true;
  }

  /** Bodies of the here-documents opened on the line just ended, each through its terminator line. */
  private heredocBodies(): void {
    while (this.pendingHeredocs.length > 0 && this.pos < this.src.length) {
      const terminator = this.pendingHeredocs.shift()!;
      let lineStart = this.pos;
      while (lineStart < this.src.length) {
        const end = this.lineEnd(lineStart);
        if (this.src.slice(lineStart, end).trim().replace(/;$/, '') === terminator) break;
        lineStart = this.nextLine(lineStart);
      }
      this.consume(this.pos, Math.min(this.src.length, this.lineEnd(lineStart)), 'literal');
      if (this.pos < this.src.length) this.lineBreak();
    }
  }
}
