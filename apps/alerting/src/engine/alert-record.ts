/** What the engine stores per alert and per group, and how a record becomes an event or a view. */
import type { AlertEvent, AlertState, AlertView, Labels, Matcher, Severity, Silence } from '@sb/contracts';
import type { EscalationState } from './escalation-plan';
import { matchAll } from './labels';

export interface EffectiveRoute {
  channelIds: string[];
  escalationPolicyId?: string;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export interface AlertRecord {
  fingerprint: string;
  name: string;
  severity: Severity;
  /** Rule id, or `external:<service>`. */
  source: string;
  /** Key of the evaluated series (label set before rule labels), to know when it stops breaching. */
  seriesKey: string;
  labels: Labels;
  annotations: Record<string, string>;
  value: number | null;
  state: 'firing' | 'resolved';
  startsAt: number;
  endsAt: number | null;
  route: EffectiveRoute;
  groupKey: string;
  groupLabels: Labels;
  ack: { by: string; at: number; expiresAt: number; comment?: string } | null;
  escalation: EscalationState | null;
}

export interface GroupRecord {
  groupKey: string;
  groupLabels: Labels;
  /** Notifications sent for this group so far; the next one's id ends in seq + 1. */
  seq: number;
  lastNotifiedAt: number;
  /** Fingerprints of the firing alerts the last notification reported. */
  notified: string[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What every outward view of an alert shares. */
function common(r: AlertRecord) {
  return {
    fingerprint: r.fingerprint,
    name: r.name,
    severity: r.severity,
    labels: r.labels,
    annotations: r.annotations,
    source: r.source,
    value: r.value,
    startsAt: new Date(r.startsAt).toISOString(),
    endsAt: iso(r.endsAt),
  };
}

export function toEvent(r: AlertRecord, state: AlertState, at: number): AlertEvent {
  return {
    ...common(r),
    state,
    at: new Date(at).toISOString(),
    acknowledgedBy: r.ack?.by ?? null,
    ackExpiresAt: r.ack ? new Date(r.ack.expiresAt).toISOString() : null,
    escalation: r.escalation ? { policyId: r.escalation.policyId, level: r.escalation.level } : null,
  };
}

export function activeAck(r: AlertRecord, now: number): boolean {
  return r.ack !== null && r.ack.expiresAt > now;
}

export function toView(r: AlertRecord, now: number, silencedBy: string[], inhibited: boolean): AlertView {
  return {
    ...common(r),
    state: r.state,
    silencedBy,
    inhibited,
    ack: r.ack && activeAck(r, now) ? { by: r.ack.by, at: new Date(r.ack.at).toISOString(), expiresAt: new Date(r.ack.expiresAt).toISOString(), comment: r.ack.comment } : null,
    escalation: r.escalation ? { policyId: r.escalation.policyId, level: r.escalation.level, loop: r.escalation.loop, nextAt: iso(r.escalation.nextAt) } : null,
  };
}

// ---- silences and inhibition ------------------------------------------------------------------

/** Alertmanager-style: while a firing `source` alert exists, `target` alerts with the same `equal` labels are not notified. */
export interface InhibitRule {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

export function activeSilences(silences: Iterable<Silence>, labels: Labels, now: number): string[] {
  const out: string[] = [];
  for (const s of silences) {
    if (Date.parse(s.startsAt) <= now && now < Date.parse(s.endsAt) && matchAll(s.matchers, labels)) out.push(s.id);
  }
  return out;
}

/**
 * `inhibited` for every alert of a tick at once: each rule's sources are matched once and indexed
 * by their `equal` labels, so a target costs a lookup per rule instead of a scan of every firing
 * alert (with 2,000 agents down that scan was millions of matcher runs per tick).
 */
export function inhibitionIndex(firing: readonly AlertRecord[], rules: readonly InhibitRule[]): (target: AlertRecord) => boolean {
  const indexed = rules.map((rule) => {
    const sources = new Map<string, Set<string>>();
    for (const src of firing) {
      if (src.state !== 'firing' || !matchAll(rule.source, src.labels)) continue;
      const k = equalKey(rule.equal, src.labels);
      let fps = sources.get(k);
      if (!fps) sources.set(k, (fps = new Set()));
      fps.add(src.fingerprint);
    }
    return { rule, sources };
  });
  return (target) =>
    indexed.some(({ rule, sources }) => {
      if (sources.size === 0 || !matchAll(rule.target, target.labels)) return false;
      const fps = sources.get(equalKey(rule.equal, target.labels));
      return fps !== undefined && (fps.size > 1 || !fps.has(target.fingerprint));
    });
}

const equalKey = (names: readonly string[], labels: Labels) => names.map((l) => labels[l] ?? '').join('\u0000');

export function inhibited(target: AlertRecord, firing: readonly AlertRecord[], rules: readonly InhibitRule[]): boolean {
  for (const rule of rules) {
    if (!matchAll(rule.target, target.labels)) continue;
    for (const src of firing) {
      if (src.fingerprint === target.fingerprint || src.state !== 'firing' || !matchAll(rule.source, src.labels)) continue;
      if (rule.equal.every((l) => (src.labels[l] ?? '') === (target.labels[l] ?? ''))) return true;
    }
  }
  return false;
}
