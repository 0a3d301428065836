/** Label matching, fingerprints and annotation templates: pure functions, no code execution. */
import { createHash } from 'node:crypto';
import type { Labels, Matcher } from '@sb/contracts';

export type LabelPredicate = (labels: Labels) => boolean;

/** A label's value, own properties only (`__proto__`, `constructor` are just absent labels). */
export const labelValue = (labels: Labels, name: string): string | undefined => (Object.hasOwn(labels, name) ? labels[name] : undefined);

const regexCache = new Map<string, RegExp>();
function anchored(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(source, re);
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
      return anchored(m.value).test(v);
    case '!~':
      return !anchored(m.value).test(v);
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
