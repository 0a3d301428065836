/** Label matching, fingerprints and annotation templates: pure functions, no code execution. */
import { createHash } from 'node:crypto';
import { compileLabelRegex, type LabelRegex, type Labels, type Matcher } from '@sb/contracts';

export type LabelPredicate = (labels: Labels) => boolean;

/** A label's value, own properties only (`__proto__`, `constructor` are just absent labels). */
export const labelValue = (labels: Labels, name: string): string | undefined => (Object.hasOwn(labels, name) ? labels[name] : undefined);

/** Matches nothing: a stored pattern RE2 refuses (kept from before RE2) silences and selects nothing. */
const NEVER: LabelRegex = { test: () => false };
/**
 * Compiled once per matcher object: a silence's or rule's matchers live as long as their record in
 * the watched bucket, and go with it (no eviction to thrash when there are many).
 */
const compiled = new WeakMap<Matcher, LabelRegex>();
function regexOf(m: Matcher): LabelRegex {
  let re = compiled.get(m);
  if (!re) {
    const c = compileLabelRegex(m.value);
    re = 'error' in c ? NEVER : c;
    compiled.set(m, re);
  }
  return re;
}

/** Alertmanager semantics: a missing label is the empty string. */
export function matches(m: Matcher, labels: Labels): boolean {
  const v = labelValue(labels, m.name) ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return regexOf(m).test(v);
    case '!~': {
      // A pattern RE2 refuses cannot vouch that a value does not match either.
      const re = regexOf(m);
      return re !== NEVER && !re.test(v);
    }
  }
}

export function matchAll(ms: readonly Matcher[], labels: Labels): boolean {
  for (const m of ms) if (!matches(m, labels)) return false;
  return true;
}

/** Stable key of a label set (sorted), for maps and hashing. */
export function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');
}

/** Fingerprint of an alert instance: its name plus its labels, order-independent. */
export function fingerprint(name: string, labels: Labels): string {
  return createHash('sha256').update(name).update('\u0002').update(labelKey(labels)).digest('hex').slice(0, 32);
}

export function pick(labels: Labels, names: readonly string[]): Labels {
  const out: Labels = {};
  for (const n of names) {
    const v = labelValue(labels, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

const TEMPLATE = /\{\{\s*\$(labels\.([a-zA-Z_][a-zA-Z0-9_]*)|value)\s*\}\}/g;

/**
 * `{{ $labels.<name> }}` → that label ('' when absent), `{{ $value }}` → the value (up to 6
 * significant digits). Anything else is left as written: substitution only, never evaluation.
 */
export function renderTemplate(template: string, labels: Labels, value: number | null): string {
  return template.replace(TEMPLATE, (_m, what: string, label?: string) => {
    if (label !== undefined) return labelValue(labels, label) ?? '';
    return value === null ? '' : formatValue(value);
  });
}

export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

export function renderAnnotations(annotations: Record<string, string>, labels: Labels, value: number | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, t] of Object.entries(annotations)) out[k] = renderTemplate(t, labels, value);
  return out;
}
