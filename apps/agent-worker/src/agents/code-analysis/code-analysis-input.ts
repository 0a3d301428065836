/**
 * The `code-analysis` task input, validated and turned into code blocks:
 *   "a message with ```lang fenced blocks```"  (no fence: the whole string is code, language guessed)
 *   { "text": "...same as a string..." }        (`message` is accepted as an alias)
 *   { "code": "...", "language"?: "python" }    (language guessed when absent)
 */
import { PermanentError } from '@switchboard/agent-sdk';
import { detectLanguage, isNotCode, normalizeLanguage } from './language-detection';
import { extractFencedBlocks } from './markdown-blocks';
import type { CodeBlock, SkippedBlock } from './types';

/** Largest input accepted, in UTF-8 bytes. */
export const MAX_INPUT_BYTES = 200 * 1024;
/** Fenced blocks analysed per task; later ones are reported as skipped. */
export const MAX_BLOCKS = 20;
const MAX_LANGUAGE_LENGTH = 40;

export interface CodeAnalysisInput {
  blocks: CodeBlock[];
  skipped: SkippedBlock[];
}

const USAGE = 'code-analysis expects a string, { "text": string }, or { "code": string, "language"?: string }';

export function parseCodeAnalysisInput(input: unknown): CodeAnalysisInput {
  if (typeof input === 'string') return fromMessage(checkSize(input));
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw badInput(USAGE);
  const { code, text, message, language } = input as Record<string, unknown>;
  const provided = [code, text, message].filter((v) => v !== undefined);
  if (provided.length !== 1) throw badInput(`${USAGE} (give exactly one of code, text)`);
  if (code !== undefined) {
    if (typeof code !== 'string') throw badInput('"code" must be a string');
    if (language !== undefined && (typeof language !== 'string' || language.trim() === '' || language.length > MAX_LANGUAGE_LENGTH)) {
      throw badInput(`"language" must be a non-empty string of at most ${MAX_LANGUAGE_LENGTH} characters`);
    }
    const source = tidy(checkSize(code));
    if (source === '') throw badInput('"code" is empty');
    return { blocks: [{ language: language === undefined ? detectLanguage(source) : normalizeLanguage(language), code: source }], skipped: [] };
  }
  const body = text ?? message;
  if (typeof body !== 'string') throw badInput(`"${text !== undefined ? 'text' : 'message'}" must be a string`);
  return fromMessage(checkSize(body));
}

function fromMessage(message: string): CodeAnalysisInput {
  const fenced = extractFencedBlocks(message);
  if (fenced.length === 0) {
    const code = tidy(message);
    if (code === '') throw badInput('The input holds no code');
    return { blocks: [{ language: detectLanguage(code), code }], skipped: [] };
  }
  const blocks: CodeBlock[] = [];
  const skipped: SkippedBlock[] = [];
  fenced.forEach((f, index) => {
    const code = tidy(f.code);
    const tagged = f.tag === '' ? undefined : normalizeLanguage(f.tag);
    if (code === '') skipped.push({ index, language: tagged ?? 'unknown', reason: 'empty block' });
    else if (tagged !== undefined && isNotCode(tagged)) skipped.push({ index, language: tagged, reason: 'data, markup or prose, not code' });
    else if (tagged === undefined && looksLikeJson(code)) skipped.push({ index, language: 'json', reason: 'data, markup or prose, not code' });
    else if (blocks.length >= MAX_BLOCKS) skipped.push({ index, language: tagged ?? 'unknown', reason: `over the limit of ${MAX_BLOCKS} blocks per task` });
    else blocks.push({ language: tagged ?? detectLanguage(code), code });
  });
  if (blocks.length === 0) throw badInput(`No code blocks to analyse (${skipped.length} skipped: ${[...new Set(skipped.map((s) => s.language))].join(', ')})`);
  return { blocks, skipped };
}

function checkSize(text: string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_INPUT_BYTES) {
    throw new PermanentError('AGENT.INPUT_TOO_LARGE', `Input is ${bytes} bytes; code-analysis accepts at most ${MAX_INPUT_BYTES}`);
  }
  return text;
}

/** Trailing whitespace and line breaks are not lines of the code. */
function tidy(code: string): string {
  return code.trimEnd();
}

function looksLikeJson(code: string): boolean {
  const first = code.trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(code);
    return true;
  } catch {
    return false;
  }
}

function badInput(message: string): PermanentError {
  return new PermanentError('AGENT.BAD_INPUT', message);
}
