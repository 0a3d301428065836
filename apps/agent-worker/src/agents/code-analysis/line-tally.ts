/**
 * Classifies the physical lines of a block as code, comment-only or blank.
 * Analyzers mark which lines hold code tokens and which hold comments; a line with both is code.
 */
import type { LineCounts } from './types';

/** Splits on \r\n, \r and \n. A trailing line break does not open an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export class LineTally {
  private readonly code: Uint8Array;
  private readonly comment: Uint8Array;

  constructor(private readonly lines: readonly string[]) {
    this.code = new Uint8Array(lines.length + 2);
    this.comment = new Uint8Array(lines.length + 2);
  }

  /** Marks 1-based lines `from..to` (inclusive) as holding code. */
  markCode(from: number, to: number = from): void {
    for (let l = Math.max(1, from); l <= Math.min(to, this.lines.length); l++) this.code[l] = 1;
  }

  /** Marks 1-based lines `from..to` (inclusive) as holding a comment. */
  markComment(from: number, to: number = from): void {
    for (let l = Math.max(1, from); l <= Math.min(to, this.lines.length); l++) this.comment[l] = 1;
  }

  counts(): LineCounts {
    let linesOfCode = 0;
    let commentLines = 0;
    let blankLines = 0;
    this.lines.forEach((text, i) => {
      const l = i + 1;
      if (text.trim() === '') blankLines++;
      else if (this.code[l] || !this.comment[l]) linesOfCode++;
      else commentLines++;
    });
    return { linesOfCode, commentLines, blankLines, totalLines: this.lines.length };
  }
}

/** Matches the task markers counted by every analyzer. */
export const TODO_PATTERN = /\b(TODO|FIXME|XXX|HACK)\b/;
