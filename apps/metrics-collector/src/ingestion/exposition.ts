/**
 * Prometheus text exposition (format 0.0.4) of every agent's series, each labelled
 * `agent="<id>"`: HELP and TYPE once per family, histograms as `_bucket{le}` (with `+Inf`),
 * `_sum` and `_count`, label values and help text escaped.
 */
import type { Labels } from '@sb/contracts';
import type { Series, SeriesStore } from './series-store';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(agentId: string, labels: Labels, extra?: [string, string]): string {
  let out = `agent="${escapeLabelValue(agentId)}"`;
  for (const k of Object.keys(labels).sort()) out += `,${k}="${escapeLabelValue(labels[k])}"`;
  if (extra) out += `,${extra[0]}="${escapeLabelValue(extra[1])}"`;
  return `{${out}}`;
}

function seriesLines(agentId: string, s: Series, out: string[]): void {
  if (s.type !== 'histogram') {
    out.push(`${s.name}${labelText(agentId, s.labels)} ${formatValue(s.value)}`);
    return;
  }
  for (const b of s.buckets ?? []) out.push(`${s.name}_bucket${labelText(agentId, s.labels, ['le', formatValue(b.le)])} ${formatValue(b.count)}`);
  out.push(`${s.name}_bucket${labelText(agentId, s.labels, ['le', '+Inf'])} ${formatValue(s.count ?? 0)}`);
  out.push(`${s.name}_sum${labelText(agentId, s.labels)} ${formatValue(s.sum ?? 0)}`);
  out.push(`${s.name}_count${labelText(agentId, s.labels)} ${formatValue(s.count ?? 0)}`);
}

export function renderExposition(store: SeriesStore): string {
  const out: string[] = [];
  const families = [...store.byFamily()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, { family, series }] of families) {
    out.push(`# HELP ${name} ${escapeHelp(family.help)}`);
    out.push(`# TYPE ${name} ${family.type}`);
    for (const [agentId, s] of series) seriesLines(agentId, s, out);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
