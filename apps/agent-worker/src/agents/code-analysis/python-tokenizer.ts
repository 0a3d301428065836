/**
 * A small Python tokenizer: enough to count keywords without being fooled by strings or comments.
 * Handles `#` comments, string prefixes (r, b, u, f, t and pairs), single, double and triple quotes,
 * backslash escapes and continuations, and bracket-implicit line joining. It groups tokens into
 * logical lines with their indentation, and classifies physical lines (code, comment, blank);
 * a statement made only of strings (a docstring) counts as comment lines.
 */
import { LineTally, splitLines } from './line-tally';

export type PyTokenKind = 'name' | 'number' | 'string' | 'op';

export interface PyToken {
  kind: PyTokenKind;
  value: string;
  line: number;
  endLine: number;
}

export interface LogicalLine {
  tokens: PyToken[];
  /** Indentation column of the first token, tabs expanded to multiples of 8. */
  indent: number;
  line: number;
  endLine: number;
}

export interface PyComment {
  line: number;
  text: string;
}

export interface PyTokenized {
  logicalLines: LogicalLine[];
  comments: PyComment[];
  tally: LineTally;
}

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'tr', 'rt']);
const TWO_CHAR_OPS = new Set(['==', '!=', '<=', '>=', '->', ':=', '**', '//', '<<', '>>']);
const OPENERS = '([{';
const CLOSERS = ')]}';

export function tokenizePython(code: string): PyTokenized {
  return new PythonTokenizer(code).run();
}

class PythonTokenizer {
  private pos = 0;
  private line = 1;
  private depth = 0;
  private current: PyToken[] = [];
  private currentIndent = 0;
  private readonly logicalLines: LogicalLine[] = [];
  private readonly comments: PyComment[] = [];
  private readonly tally: LineTally;

  constructor(private readonly src: string) {
    this.tally = new LineTally(splitLines(src));
  }

  run(): PyTokenized {
    const s = this.src;
    let lineStart = true;
    let column = 0;
    while (this.pos < s.length) {
      const ch = s[this.pos];
      if (ch === '\r' || ch === '\n') {
        this.skipLineBreak();
        if (this.depth === 0) this.endLogicalLine();
        lineStart = true;
        column = 0;
        continue;
      }
      if (ch === ' ' || ch === '\t' || ch === '\f') {
        if (lineStart) column = ch === '\t' ? (Math.floor(column / 8) + 1) * 8 : column + 1;
        this.pos++;
        continue;
      }
      if (ch === '\\' && (s[this.pos + 1] === '\n' || s[this.pos + 1] === '\r')) {
        // Explicit line joining: the logical line goes on.
        this.pos++;
        this.skipLineBreak();
        lineStart = false;
        continue;
      }
      if (ch === '#') {
        this.comment();
        continue;
      }
      if (lineStart && this.current.length === 0) this.currentIndent = column;
      lineStart = false;
      this.token(ch);
    }
    this.endLogicalLine();
    return { logicalLines: this.logicalLines, comments: this.comments, tally: this.tally };
  }

  private token(ch: string): void {
    const s = this.src;
    if (isNameStart(ch)) {
      const start = this.pos;
      while (this.pos < s.length && isNamePart(s[this.pos])) this.pos++;
      const word = s.slice(start, this.pos);
      const next = s[this.pos];
      if ((next === '"' || next === "'") && STRING_PREFIXES.has(word.toLowerCase())) this.string(start);
      else this.push('name', word, this.line);
      return;
    }
    if (ch === '"' || ch === "'") {
      this.string(this.pos);
      return;
    }
    if (isDigit(ch) || (ch === '.' && isDigit(s[this.pos + 1] ?? ''))) {
      const start = this.pos;
      while (this.pos < s.length && (isNamePart(s[this.pos]) || s[this.pos] === '.')) this.pos++;
      this.push('number', s.slice(start, this.pos), this.line);
      return;
    }
    const two = s.slice(this.pos, this.pos + 2);
    const op = TWO_CHAR_OPS.has(two) ? two : ch;
    this.pos += op.length;
    if (OPENERS.includes(op)) this.depth++;
    else if (CLOSERS.includes(op)) this.depth = Math.max(0, this.depth - 1);
    this.push('op', op, this.line);
  }

  /** A string literal starting at `start` (its prefix included); may span lines when triple-quoted. */
  private string(start: number): void {
    const s = this.src;
    const firstLine = this.line;
    const quote = s[this.pos];
    const triple = s.startsWith(quote.repeat(3), this.pos);
    this.pos += triple ? 3 : 1;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === '\\') {
        this.pos++;
        if (s[this.pos] === '\r' || s[this.pos] === '\n') this.skipLineBreak();
        else this.pos++;
        continue;
      }
      if (triple && s.startsWith(quote.repeat(3), this.pos)) {
        this.pos += 3;
        break;
      }
      if (!triple && c === quote) {
        this.pos++;
        break;
      }
      if (c === '\r' || c === '\n') {
        if (!triple) break; // unterminated single-quoted string: stop at the end of the line
        this.skipLineBreak();
        continue;
      }
      this.pos++;
    }
    this.push('string', s.slice(start, this.pos), firstLine);
  }

  private comment(): void {
    const s = this.src;
    const start = this.pos;
    while (this.pos < s.length && s[this.pos] !== '\n' && s[this.pos] !== '\r') this.pos++;
    this.comments.push({ line: this.line, text: s.slice(start, this.pos) });
    this.tally.markComment(this.line);
  }

  /** Consumes one line break (\r\n, \r or \n) and counts the line. */
  private skipLineBreak(): void {
    if (this.src[this.pos] === '\r' && this.src[this.pos + 1] === '\n') this.pos++;
    this.pos++;
    this.line++;
  }

  private push(kind: PyTokenKind, value: string, line: number): void {
    this.current.push({ kind, value, line, endLine: this.line });
  }

  private endLogicalLine(): void {
    const tokens = this.current;
    if (tokens.length === 0) return;
    this.current = [];
    const docstring = tokens.every((t) => t.kind === 'string');
    for (const t of tokens) {
      if (docstring) this.tally.markComment(t.line, t.endLine);
      else this.tally.markCode(t.line, t.endLine);
    }
    const last = tokens[tokens.length - 1];
    this.logicalLines.push({ tokens, indent: this.currentIndent, line: tokens[0].line, endLine: last.endLine });
  }
}

function isNameStart(c: string): boolean {
  return /[\p{L}\p{Nl}_]/u.test(c);
}

function isNamePart(c: string): boolean {
  return /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]/u.test(c);
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
