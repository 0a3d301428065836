/**
 * Validation of the two hot payloads (heartbeats at fleet rate, metric samples by the hundred
 * thousand) without paying the schema library's per-field cost: a fast path that accepts only
 * the common, certainly-valid shapes, and hands everything else to the contract's zod schema,
 * which stays the authority. The fast path accepts a strict subset of what the schema accepts
 * and produces the same output (unknown fields dropped, defaults filled); the spec checks
 * both on a corpus of good and bad payloads.
 */
import { AgentIdSchema, type Heartbeat, LABEL_NAME_PATTERN, HeartbeatSchema, type Labels, type MetricBatch, MetricSampleSchema, type MetricSample } from '@sb/contracts';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,127}$/;

const CACHE_LIMIT = 50_000;

/** Strings already checked against a pattern (names repeat endlessly; the check need not). */
class Checked {
  private readonly ok = new Set<string>();
  constructor(private readonly test: (s: string) => boolean) {}
  has(s: unknown): s is string {
    if (typeof s !== 'string') return false;
    if (this.ok.has(s)) return true;
    if (!this.test(s)) return false;
    if (this.ok.size >= CACHE_LIMIT) this.ok.clear();
    this.ok.add(s);
    return true;
  }
}
const metricNames = new Checked((s) => METRIC_NAME.test(s));
const labelNames = new Checked((s) => LABEL_NAME_PATTERN.test(s));
const agentIds = new Checked((s) => AgentIdSchema.safeParse(s).success);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const count = (v: unknown): v is number => finite(v) && v >= 0;
const int = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const optString = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max);

function fastLabels(v: unknown): Labels | undefined {
  if (v === undefined) return {};
  if (!isObject(v) || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const out: Labels = {};
  let n = 0;
  for (const k in v) {
    const val = v[k];
    if (++n > 32 || !labelNames.has(k) || typeof val !== 'string' || val.length > 256) return undefined;
    out[k] = val;
  }
  return out;
}

/** The sample as the schema would output it, or undefined when the fast path is not sure. */
export function fastSample(s: unknown): MetricSample | undefined {
  if (!isObject(s)) return undefined;
  const name = s.name;
  const help = s.help;
  if (!metricNames.has(name) || !optString(help, 256)) return undefined;
  const labels = fastLabels(s.labels);
  if (!labels) return undefined;
  let out: MetricSample;
  const type = s.type;
  if (type === 'gauge') {
    if (!finite(s.value)) return undefined;
    out = { type, name, labels, value: s.value };
  } else if (type === 'counter') {
    if (!count(s.value)) return undefined;
    out = { type, name, labels, value: s.value };
  } else if (type === 'histogram') {
    const raw = s.buckets;
    if (!Array.isArray(raw) || raw.length > 64 || !finite(s.sum) || !count(s.count)) return undefined;
    const buckets: Array<{ le: number; count: number }> = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const b = raw[i] as Record<string, unknown>;
      if (!isObject(b) || !finite(b.le) || !count(b.count)) return undefined;
      buckets[i] = { le: b.le, count: b.count };
    }
    out = { type, name, labels, buckets, sum: s.sum, count: s.count };
  } else return undefined;
  if (help !== undefined) out.help = help as string;
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false };

/** MetricBatchSchema's verdict: the whole batch, or nothing. */
export function parseMetricBatch(body: unknown): Parsed<MetricBatch> {
  if (!isObject(body) || !agentIds.has(body.agentId) || (body.sentAt !== undefined && !int(body.sentAt, Number.MIN_SAFE_INTEGER))) return { ok: false };
  if (!Array.isArray(body.samples) || body.samples.length > 10_000) return { ok: false };
  const samples: MetricSample[] = [];
  for (const raw of body.samples as unknown[]) {
    let s = fastSample(raw);
    if (!s) {
      const slow = MetricSampleSchema.safeParse(raw);
      if (!slow.success) return { ok: false };
      s = slow.data;
    }
    samples.push(s);
  }
  const batch: MetricBatch = body.sentAt === undefined ? { agentId: body.agentId, samples } : { agentId: body.agentId, sentAt: body.sentAt as number, samples };
  return { ok: true, value: batch };
}

function fastHeartbeat(b: unknown): Heartbeat | undefined {
  if (!isObject(b) || !agentIds.has(b.agentId) || !int(b.seq, 0) || !int(b.inFlight, 0) || !int(b.capacity, 0)) return undefined;
  if (b.sentAt !== undefined && !int(b.sentAt, Number.MIN_SAFE_INTEGER)) return undefined;
  if (b.status !== undefined && b.status !== 'ready' && b.status !== 'draining') return undefined;
  if (b.cpuPercent !== undefined && !(count(b.cpuPercent) && b.cpuPercent <= 100_000)) return undefined;
  if (b.memoryBytes !== undefined && !count(b.memoryBytes)) return undefined;
  if (b.memoryPercent !== undefined && !(count(b.memoryPercent) && b.memoryPercent <= 100)) return undefined;
  // A `tasks` list (agents sent held tasks before protocol v1) is dropped like any unknown key, never judged.
  const hb: Heartbeat = { agentId: b.agentId, seq: b.seq, status: (b.status as Heartbeat['status']) ?? 'ready', inFlight: b.inFlight, capacity: b.capacity };
  if (b.sentAt !== undefined) hb.sentAt = b.sentAt as number;
  if (b.cpuPercent !== undefined) hb.cpuPercent = b.cpuPercent as number;
  if (b.memoryBytes !== undefined) hb.memoryBytes = b.memoryBytes as number;
  if (b.memoryPercent !== undefined) hb.memoryPercent = b.memoryPercent as number;
  return hb;
}

/** HeartbeatSchema's verdict, fast for the common shape. */
export function parseHeartbeat(body: unknown): Parsed<Heartbeat> {
  const fast = fastHeartbeat(body);
  if (fast) return { ok: true, value: fast };
  const slow = HeartbeatSchema.safeParse(body);
  return slow.success ? { ok: true, value: slow.data } : { ok: false };
}
