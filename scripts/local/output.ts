// Labelled, optionally coloured output for the launcher and its children:
//   [gateway]           {"level":30,"msg":"listening"}
// Colour only when stdout is a TTY (NO_COLOR disables, FORCE_COLOR forces).

const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94, 91];
const RESET = '\u001b[0m';

export interface Output {
  /** A line from a child process, under its label. */
  line(label: string, text: string, stream?: 'stdout' | 'stderr'): void;
  /** The launcher's own messages. */
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Text highlighted (bold) when colour is on. */
  bold(text: string): string;
}

export function useColor(env: NodeJS.ProcessEnv, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(stream.isTTY);
}

export function createOutput(labels: string[], color: boolean): Output {
  const SELF = 'start';
  const width = Math.max(SELF.length, ...labels.map((l) => l.length)) + 2;
  const codes = new Map<string, number>(labels.map((l, i) => [l, PALETTE[i % PALETTE.length]]));
  const paint = (code: number, text: string): string => (color ? `\u001b[${code}m${text}${RESET}` : text);
  const label = (name: string, code: number): string => paint(code, `[${name}]`.padEnd(width));

  const write = (stream: 'stdout' | 'stderr', prefix: string, text: string): void => {
    const target = stream === 'stderr' ? process.stderr : process.stdout;
    for (const l of text.split('\n')) target.write(`${prefix} ${l}\n`);
  };

  return {
    line: (name, text, stream = 'stdout') => write(stream, label(name, codes.get(name) ?? 37), text),
    info: (text) => write('stdout', label(SELF, 1), text),
    warn: (text) => write('stderr', label(SELF, 1), paint(33, text)),
    error: (text) => write('stderr', label(SELF, 1), paint(31, text)),
    bold: (text) => paint(1, text),
  };
}
