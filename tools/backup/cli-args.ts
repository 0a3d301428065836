/** The backup commands' command lines: `--name value`, `--name=value`, boolean `--flag`, positionals. */
import { UsageError } from '../usage-error';

export interface ParsedArgs {
  values: Record<string, string>;
  flags: Set<string>;
  positionals: string[];
}

export function parseArgs(args: readonly string[], spec: { valued: readonly string[]; flags: readonly string[] }): ParsedArgs {
  const parsed: ParsedArgs = { values: {}, flags: new Set(), positionals: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      parsed.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^--?/, '');
    if (spec.flags.includes(name) && eq < 0 && a.startsWith('--')) {
      parsed.flags.add(name);
      continue;
    }
    if (!spec.valued.includes(name) || !a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (!value) throw new UsageError(`--${name} needs a value`);
    parsed.values[name] = value;
  }
  return parsed;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
