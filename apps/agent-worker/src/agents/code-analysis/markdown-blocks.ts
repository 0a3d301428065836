/**
 * Fenced code blocks in a markdown message, following CommonMark: an opening fence of three or
 * more backticks or tildes (a backtick fence's info string holds no backtick), closed by a fence
 * of the same character at least as long; an unclosed block runs to the end of the message.
 * Content lines lose as much indentation as the opening fence had. One leniency for chat
 * messages: a closing fence at the end of a code line (`return x```) also closes the block.
 */

export interface FencedBlock {
  /** First word of the info string, lower-cased (`python` in ```` ```python title="x" ````); '' if none. */
  tag: string;
  code: string;
  /** 1-based line of the opening fence in the message. */
  line: number;
}

const OPENING = /^( *)(`{3,}|~{3,})(.*)$/;

export function extractFencedBlocks(message: string): FencedBlock[] {
  const lines = message.split(/\r\n|\r|\n/);
  const blocks: FencedBlock[] = [];
  let open: { fence: string; indent: number; tag: string; line: number; body: string[] } | undefined;

  lines.forEach((text, i) => {
    if (!open) {
      const m = OPENING.exec(text);
      if (!m || (m[2][0] === '`' && m[3].includes('`'))) return;
      open = { fence: m[2], indent: m[1].length, tag: infoTag(m[3]), line: i + 1, body: [] };
      return;
    }
    const trimmed = text.trim();
    const fenceChar = open.fence[0];
    const run = /^(`+|~+)$/.exec(trimmed)?.[1];
    if (run && run[0] === fenceChar && run.length >= open.fence.length) {
      blocks.push(finish(open));
      open = undefined;
      return;
    }
    const trailing = trailingFence(text, open.fence);
    if (trailing !== undefined) {
      open.body.push(dedent(trailing, open.indent));
      blocks.push(finish(open));
      open = undefined;
      return;
    }
    open.body.push(dedent(text, open.indent));
  });
  if (open) blocks.push(finish(open));
  return blocks;
}

function finish(b: { tag: string; line: number; body: string[]; indent: number }): FencedBlock {
  return { tag: b.tag, line: b.line, code: b.body.join('\n') };
}

/** `python` from `python`, `{.python}`, `python title="a.py"`, `js:app.js`. */
function infoTag(info: string): string {
  return /^\s*\{?\.?([\w#+.-]+)/.exec(info)?.[1].replace(/[.:]+$/, '').toLowerCase() ?? '';
}

function dedent(text: string, indent: number): string {
  let n = 0;
  while (n < indent && text[n] === ' ') n++;
  return text.slice(n);
}

/** The code before a fence that ends a non-empty line, if the line ends with exactly the opening fence. */
function trailingFence(text: string, fence: string): string | undefined {
  const end = text.trimEnd();
  if (!end.endsWith(fence) || end.length === fence.length) return undefined;
  if (end[end.length - fence.length - 1] === fence[0]) return undefined;
  return end.slice(0, end.length - fence.length);
}
