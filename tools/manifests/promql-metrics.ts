/**
 * Metric names a PromQL expression reads. Enough PromQL for our own dashboards and rules:
 * strips strings, label matchers, ranges, grouping clauses and $variables, then keeps the
 * identifiers that are neither functions, keywords nor numbers.
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'le', 'inf', 'nan']);

export function metricNamesIn(expr: string): string[] {
  const cleaned = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?(e[+-]?\d+)?/gi, ' ');
  const out = new Set<string>();
  for (const m of cleaned.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    const name = m[0].replace(/\s*\($/, '');
    if (m[1] !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return [...out].sort();
}

/** Every `expr` anywhere in a dashboard (or any JSON value). */
export function expressionsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(expressionsIn);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : expressionsIn(v)));
  }
  return [];
}

/** Series names in a Prometheus text exposition (`name{...} value` lines and `# TYPE name`). */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+)/.exec(line);
    if (type) names.add(type[1]);
    else if (line && !line.startsWith('#')) names.add(line.split(/[{\s]/, 1)[0]);
  }
  return names;
}
