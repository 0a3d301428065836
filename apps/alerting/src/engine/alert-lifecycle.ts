/**
 * Firing and resolving alerts: each transition is a compare-and-set on the alert's KV entry,
 * and only the writer that wins publishes the event, so replicas evaluating the same samples
 * publish each state change once. Also indexes alerts by source rule and by group.
 *
 * Transitions of one alert run one after the other, and asking again for the one already under
 * way joins it: while 2,000 agents go down at once, every evaluation still sees the earlier ones
 * as not firing yet (their writes are in flight), and must not start a write of its own for each
 * (that was thousands of compare-and-set round trips per event, and timeouts). At most
 * TRANSITION_SLOTS transitions talk to KV at a time; the others wait their turn as closures.
 */
import { createHash } from 'node:crypto';
import { workSlots } from '@sb/messaging';
import type { Route } from '@sb/contracts';
import { type AlertRecord, type EffectiveRoute, toEvent } from './alert-record';
import type { EngineDeps } from './engine-deps';
import { startEscalation } from './escalation-plan';
import { labelKey, pick } from './labels';

export type FireSpec = Pick<AlertRecord, 'fingerprint' | 'name' | 'severity' | 'source' | 'seriesKey' | 'labels' | 'annotations' | 'value'> & { route?: Route };

export const alertKey = (fp: string) => `a.${fp}`;
/** Transitions (each a KV compare-and-set and an event publish) under way at the same time. */
export const TRANSITION_SLOTS = 64;

export class AlertLifecycle {
  readonly bySource = new Map<string, Set<string>>();
  readonly byGroup = new Map<string, Set<string>>();
  /** The last transition started per alert, until it is done. */
  private readonly underWay = new Map<string, { to: 'firing' | 'resolved'; done: Promise<boolean> }>();
  private readonly slots = workSlots(TRANSITION_SLOTS);

  constructor(private readonly deps: EngineDeps) {
    deps.alerts.onChange((_k, value, prev) => {
      if (prev) {
        this.bySource.get(prev.source)?.delete(prev.fingerprint);
        this.byGroup.get(prev.groupKey)?.delete(prev.fingerprint);
      }
      if (value) {
        add(this.bySource, value.source, value.fingerprint);
        add(this.byGroup, value.groupKey, value.fingerprint);
      }
    });
  }

  get(fp: string): AlertRecord | undefined {
    return this.deps.alerts.get(alertKey(fp))?.value;
  }

  all(): AlertRecord[] {
    return this.deps.alerts.values();
  }

  isFiring(fp: string): boolean {
    return this.get(fp)?.state === 'firing';
  }

  /** Firing, or a transition to firing under way (what an evaluation must not ask for again). */
  firingOrUnderWay(fp: string): boolean {
    return this.isFiring(fp) || this.underWay.get(fp)?.to === 'firing';
  }

  effectiveRoute(route: Route | undefined): EffectiveRoute {
    const s = this.deps.settings;
    return {
      // No channels and no policy: the default route's channels (an alert nobody hears is a bug).
      channelIds: route?.channelIds?.length ? route.channelIds : route?.escalationPolicyId ? [] : s.defaultChannelIds,
      escalationPolicyId: route?.escalationPolicyId,
      groupWaitMs: route?.groupWaitMs ?? s.groupWaitMs,
      groupIntervalMs: route?.groupIntervalMs ?? s.groupIntervalMs,
      repeatIntervalMs: route?.repeatIntervalMs ?? s.repeatIntervalMs,
    };
  }

  /** Fire unless already firing. Resolves true when this call made the transition. */
  fire(spec: FireSpec): Promise<boolean> {
    return this.inTurn(spec.fingerprint, 'firing', () => this.doFire(spec));
  }

  /** Resolve if firing. Resolves true when this call made the transition. */
  resolve(fp: string): Promise<boolean> {
    return this.inTurn(fp, 'resolved', () => this.doResolve(fp));
  }

  /** Run `transition` after the alert's previous one; the same transition already waiting or under way is joined instead. */
  private inTurn(fp: string, to: 'firing' | 'resolved', transition: () => Promise<boolean>): Promise<boolean> {
    const last = this.underWay.get(fp);
    if (last?.to === to) return last.done;
    const done = (last ? last.done.catch(() => false) : Promise.resolve(false)).then(() => this.slots(transition));
    const entry = { to, done };
    this.underWay.set(fp, entry);
    const forget = () => {
      if (this.underWay.get(fp) === entry) this.underWay.delete(fp);
    };
    done.then(forget, forget);
    return done;
  }

  private async doFire(spec: FireSpec): Promise<boolean> {
    if (this.isFiring(spec.fingerprint)) return false;
    const now = this.deps.clock.now();
    const route = this.effectiveRoute(spec.route);
    const groupBy = spec.route?.groupBy ?? ['alertname'];
    const groupLabels = groupBy.includes('...') ? spec.labels : pick(spec.labels, groupBy);
    const groupKey = createHash('sha256')
      .update(JSON.stringify([route.channelIds, route.escalationPolicyId ?? '', route.groupWaitMs, route.groupIntervalMs, route.repeatIntervalMs, labelKey(groupLabels)]))
      .digest('hex')
      .slice(0, 32);
    const policy = route.escalationPolicyId ? this.deps.policies().get(route.escalationPolicyId) : undefined;
    const { route: _input, ...fields } = spec;
    const rec: AlertRecord = {
      ...fields,
      state: 'firing',
      startsAt: now,
      endsAt: null,
      route,
      groupKey,
      groupLabels,
      ack: null,
      escalation: policy ? startEscalation(policy, now) : null,
    };
    const res = await this.deps.alerts.mutate(alertKey(spec.fingerprint), (cur) => (cur?.state === 'firing' ? undefined : rec));
    if (!res) return false;
    await this.emit(rec, 'firing', now, `${rec.fingerprint}:${rec.startsAt}:firing`);
    return true;
  }

  private async doResolve(fp: string): Promise<boolean> {
    if (!this.isFiring(fp)) return false;
    const now = this.deps.clock.now();
    const res = await this.deps.alerts.mutate(alertKey(fp), (cur) =>
      cur?.state === 'firing' ? { ...cur, state: 'resolved', endsAt: now, ack: null, escalation: cur.escalation ? { ...cur.escalation, nextAt: null } : null } : undefined,
    );
    if (!res?.next) return false;
    await this.emit(res.next, 'resolved', now, `${fp}:${res.next.startsAt}:resolved`);
    return true;
  }

  async emit(rec: AlertRecord, state: 'firing' | 'resolved' | 'acknowledged' | 'escalated', at: number, msgId: string): Promise<void> {
    try {
      await this.deps.events.publish(toEvent(rec, state, at), msgId);
      this.deps.onOutput?.('event', state);
    } catch (e) {
      this.deps.logger?.error({ err: e, fingerprint: rec.fingerprint, state }, 'publishing an alert event failed');
    }
  }
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
