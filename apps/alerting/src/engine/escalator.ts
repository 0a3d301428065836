/**
 * Escalation and acknowledgement. An unacknowledged firing alert moves to its policy's next
 * level when that level's delay has passed; each move is enqueued (deterministic id
 * `esc:<fp>:<startsAt>:<loop>:<level>`), recorded by compare-and-set, and published as an
 * `escalated` event by the replica that won. An ack stops escalation until it expires; then
 * escalation resumes from where it stopped.
 */
import { type AlertNotification, type AlertView, ConflictError, NotFoundError } from '@sb/contracts';
import { activeAck, type AlertRecord, toEvent, toView } from './alert-record';
import { type AlertLifecycle, alertKey } from './alert-lifecycle';
import type { EngineDeps } from './engine-deps';
import { following, levelsOf, nextAtAfter } from './escalation-plan';

export class Escalator {
  constructor(
    private readonly deps: EngineDeps,
    private readonly life: AlertLifecycle,
  ) {}

  async tick(now: number, suppressed: (a: AlertRecord) => boolean): Promise<void> {
    for (const a of this.life.all()) {
      if (a.state !== 'firing' || !a.escalation) continue;
      try {
        if (a.ack && a.ack.expiresAt <= now) await this.ackExpired(a, now);
        else if (!activeAck(a, now) && a.escalation.nextAt !== null && now >= a.escalation.nextAt && !suppressed(a)) await this.escalate(a, now);
      } catch (e) {
        this.deps.logger?.error({ err: e, fingerprint: a.fingerprint }, 'escalation failed; retrying next tick');
      }
    }
  }

  private async escalate(a: AlertRecord, now: number): Promise<void> {
    const esc = a.escalation!;
    const policy = this.deps.policies().get(esc.policyId);
    if (!policy) return; // deleted policy: hold where we are (a recreated policy picks up again)
    const next = following(policy, esc);
    if (!next) {
      await this.deps.alerts.mutate(alertKey(a.fingerprint), (cur) => (cur?.escalation && cur.startsAt === a.startsAt ? { ...cur, escalation: { ...cur.escalation, nextAt: null } } : undefined));
      return;
    }
    const level = levelsOf(policy, esc.track)[next.level];
    const id = `esc:${a.fingerprint}:${a.startsAt}:${next.loop}:${next.level}`;
    const escalation = { ...esc, level: next.level, loop: next.loop, nextAt: nextAtAfter(policy, { ...next, track: esc.track }, now), paged: [...new Set([...esc.paged, ...level.channelIds])] };
    const updated: AlertRecord = { ...a, escalation };
    const n: AlertNotification = {
      id,
      kind: 'escalated',
      groupKey: a.groupKey,
      groupLabels: a.groupLabels,
      severity: a.severity,
      channelIds: level.channelIds,
      alerts: [toEvent(updated, 'escalated', now)],
      escalation: { policyId: policy.id, level: next.level, levelName: level.name },
      createdAt: new Date(now).toISOString(),
    };
    // Enqueue first (a crash after it repeats nothing: same id), then record the move.
    await this.deps.outbox.enqueue(n);
    const won = await this.deps.alerts.mutate(alertKey(a.fingerprint), (cur) =>
      cur?.state === 'firing' && cur.startsAt === a.startsAt && cur.escalation?.level === esc.level && cur.escalation.loop === esc.loop && !activeAck(cur, now)
        ? { ...cur, escalation }
        : undefined,
    );
    if (!won) return;
    this.deps.onOutput?.('notification', 'escalated');
    await this.life.emit(updated, 'escalated', now, id);
  }

  /** The ack ran out while the alert still fires: escalation resumes (next level after its delay). */
  private async ackExpired(a: AlertRecord, now: number): Promise<void> {
    const policy = a.escalation ? this.deps.policies().get(a.escalation.policyId) : undefined;
    await this.deps.alerts.mutate(alertKey(a.fingerprint), (cur) => {
      if (cur?.state !== 'firing' || !cur.ack || cur.ack.expiresAt > now) return undefined;
      const esc = cur.escalation;
      return { ...cur, ack: null, escalation: esc && policy ? { ...esc, nextAt: nextAtAfter(policy, esc, now) } : esc };
    });
  }

  async ack(fingerprint: string, by: string, expiresInMs: number, comment?: string): Promise<AlertView> {
    const now = this.deps.clock.now();
    const a = this.life.get(fingerprint);
    if (!a) throw new NotFoundError(`Alert ${fingerprint} not found`);
    if (a.state !== 'firing') throw new ConflictError(`Alert ${fingerprint} is ${a.state}; only a firing alert can be acknowledged`);
    const ack = { by, at: now, expiresAt: now + expiresInMs, ...(comment ? { comment } : {}) };
    const res = await this.deps.alerts.mutate(alertKey(fingerprint), (cur) => (cur?.state === 'firing' ? { ...cur, ack } : undefined));
    if (!res?.next) throw new ConflictError(`Alert ${fingerprint} stopped firing`);
    const rec = res.next;
    const id = `ack:${fingerprint}:${now}`;
    await this.life.emit(rec, 'acknowledged', now, id);
    const channelIds = [...new Set([...rec.route.channelIds, ...(rec.escalation?.paged ?? [])])];
    if (channelIds.length > 0) {
      await this.deps.outbox.enqueue({
        id,
        kind: 'acknowledged',
        groupKey: rec.groupKey,
        groupLabels: rec.groupLabels,
        severity: rec.severity,
        channelIds,
        alerts: [toEvent(rec, 'acknowledged', now)],
        escalation: rec.escalation ? { policyId: rec.escalation.policyId, level: rec.escalation.level } : null,
        createdAt: new Date(now).toISOString(),
      });
      this.deps.onOutput?.('notification', 'acknowledged');
    }
    return toView(rec, now, [], false);
  }
}
