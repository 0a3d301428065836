/**
 * Grouping, Alertmanager style: alerts of a group are notified together — the first time after
 * `group_wait`, changes at most every `group_interval`, and a still-firing group again after
 * `repeat_interval`. Each decision is enqueued under a deterministic id (`<group>:<seq>`) and
 * then recorded with a compare-and-set on the group's KV entry: a replica that loses the race
 * enqueued the same id (the outbox keeps it once) and simply moves on.
 */
import type { AlertNotification, NotificationKind, Severity } from '@sb/contracts';
import { SEVERITIES } from '@sb/contracts';
import { activeAck, type AlertRecord, type GroupRecord, toEvent } from './alert-record';
import type { AlertLifecycle } from './alert-lifecycle';
import { alertKey } from './alert-lifecycle';
import type { EngineDeps } from './engine-deps';

export const groupKeyOf = (g: string) => `g.${g}`;
/** Alerts one notification lists: a group of thousands still fits one message (NATS payloads are about 1 MiB). */
export const MAX_ALERTS_PER_NOTIFICATION = 200;

export class GroupNotifier {
  constructor(
    private readonly deps: EngineDeps,
    private readonly life: AlertLifecycle,
  ) {}

  async tick(now: number, suppressed: (a: AlertRecord) => boolean): Promise<void> {
    const keys = new Set<string>(this.life.byGroup.keys());
    for (const k of this.deps.groups.keys()) keys.add(k.slice(2));
    for (const gk of keys) {
      try {
        await this.process(gk, now, suppressed);
      } catch (e) {
        this.deps.logger?.error({ err: e, group: gk }, 'group notification failed; retrying next tick');
      }
    }
  }

  private async process(gk: string, now: number, suppressed: (a: AlertRecord) => boolean): Promise<void> {
    const members = [...(this.life.byGroup.get(gk) ?? [])].map((fp) => this.life.get(fp)).filter((a): a is AlertRecord => a !== undefined);
    const g = this.deps.groups.get(groupKeyOf(gk))?.value;
    if (members.length === 0) {
      if (g && g.notified.length === 0) await this.deps.groups.mutate(groupKeyOf(gk), (cur) => (cur && cur.notified.length === 0 ? null : undefined));
      return;
    }
    const route = members[0].route;
    const notified = new Set(g?.notified ?? []);
    const firing = members.filter((a) => a.state === 'firing' && !suppressed(a));
    const firingFps = firing.map((a) => a.fingerprint).sort();
    const resolvedNow = members.filter((a) => a.state === 'resolved' && notified.has(a.fingerprint));

    let kind: NotificationKind | null = null;
    if (!g || g.notified.length === 0) {
      if (firing.length > 0 && now >= Math.min(...firing.map((a) => a.startsAt)) + route.groupWaitMs) kind = 'firing';
    } else if (!sameSet(firingFps, g.notified)) {
      if (now >= g.lastNotifiedAt + route.groupIntervalMs) kind = firing.length > 0 ? 'firing' : 'resolved';
    } else if (firing.some((a) => !activeAck(a, now)) && now >= g.lastNotifiedAt + route.repeatIntervalMs) {
      kind = 'repeat';
    }

    if (kind) {
      const seq = (g?.seq ?? 0) + 1;
      const included = [...firing, ...resolvedNow];
      if (included.length > 0) {
        const channelIds = new Set(route.channelIds);
        for (const a of included) for (const c of a.escalation?.paged ?? []) channelIds.add(c);
        const n: AlertNotification = {
          id: `${gk}:${seq}`,
          kind,
          groupKey: gk,
          groupLabels: members[0].groupLabels,
          severity: highest(included.map((a) => a.severity)),
          channelIds: [...channelIds],
          alerts: included.slice(0, MAX_ALERTS_PER_NOTIFICATION).map((a) => toEvent(a, a.state, now)),
          ...(included.length > MAX_ALERTS_PER_NOTIFICATION ? { truncatedAlerts: included.length - MAX_ALERTS_PER_NOTIFICATION } : {}),
          escalation: null,
          createdAt: new Date(now).toISOString(),
        };
        if (n.channelIds.length > 0) await this.deps.outbox.enqueue(n);
      }
      const next: GroupRecord = { groupKey: gk, groupLabels: members[0].groupLabels, seq, lastNotifiedAt: now, notified: firingFps };
      const won = await this.deps.groups.mutate(groupKeyOf(gk), (cur) => ((cur?.seq ?? 0) === seq - 1 ? next : undefined));
      if (won && included.length > 0) this.deps.onOutput?.('notification', kind);
    }

    // Resolved alerts whose resolution was reported (or never needed reporting) leave after the retention.
    const stillReported = new Set(this.deps.groups.get(groupKeyOf(gk))?.value.notified ?? []);
    for (const a of members) {
      if (a.state !== 'resolved' || stillReported.has(a.fingerprint) || (a.endsAt ?? now) + this.deps.settings.resolvedRetentionMs > now) continue;
      await this.deps.alerts.mutate(alertKey(a.fingerprint), (cur) => (cur?.state === 'resolved' ? null : undefined));
    }
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((x) => s.has(x));
}

export function highest(sevs: readonly Severity[]): Severity {
  let best = 0;
  for (const s of sevs) best = Math.max(best, SEVERITIES.indexOf(s));
  return SEVERITIES[best];
}
