/**
 * Rules, silences and escalation policies: create, read, replace, delete. Input arrives
 * validated by the contract schemas; this adds what a schema cannot see (a rule's policy must
 * exist; a policy in use cannot be deleted; silences are capped in number, matchers and how far
 * ahead they end) and seeds the default rules once.
 */
import {
  type AlertRule,
  type AlertRuleInput,
  ConflictError,
  type EscalationPolicy,
  type EscalationPolicyInput,
  type Silence,
  type SilenceInput,
  ValidationError,
} from '@sb/contracts';
import type { Clock } from '@sb/observability';
import type { WatchedKv } from '../store/watched-kv';
import { ConfigCollection } from './config-collection';
import { DEFAULT_RULES, DEFAULT_RULES_MARKER } from './default-rules';

export interface SilenceWrite {
  silence: SilenceInput;
  createdBy: string;
}

/** ALERTING_MAX_SILENCES, ALERTING_SILENCE_MAX_MATCHERS, ALERTING_SILENCE_MAX_DURATION_MS. */
export interface SilenceLimits {
  maxSilences: number;
  maxMatchers: number;
  maxDurationMs: number;
}
export const DEFAULT_SILENCE_LIMITS: SilenceLimits = { maxSilences: 1_000, maxMatchers: 32, maxDurationMs: 90 * 24 * 3600_000 };

export class AlertingConfigHandler {
  readonly rules: ConfigCollection<AlertRuleInput, AlertRule>;
  readonly silences: ConfigCollection<SilenceWrite, Silence>;
  readonly policies: ConfigCollection<EscalationPolicyInput, EscalationPolicy>;

  constructor(
    kv: { rules: WatchedKv<AlertRule>; silences: WatchedKv<Silence>; policies: WatchedKv<EscalationPolicy> },
    private readonly clock: Clock,
    private readonly limits: SilenceLimits = DEFAULT_SILENCE_LIMITS,
  ) {
    this.rules = new ConfigCollection(kv.rules, 'Alert rule', 'rul', clock, (input, stamp) => ({ ...input, ...stamp }));
    this.silences = new ConfigCollection(kv.silences, 'Silence', 'sil', clock, (w, stamp) => ({
      ...w.silence,
      startsAt: w.silence.startsAt ?? stamp.updatedAt,
      createdBy: w.createdBy,
      ...stamp,
    }));
    this.policies = new ConfigCollection(kv.policies, 'Escalation policy', 'esc', clock, (input, stamp) => ({ ...input, ...stamp }));
  }

  async createRule(input: AlertRuleInput): Promise<AlertRule> {
    await this.checkPolicy(input);
    return this.rules.create(input);
  }
  async updateRule(id: string, input: AlertRuleInput): Promise<AlertRule> {
    await this.checkPolicy(input);
    return this.rules.update(id, input);
  }

  /**
   * Every replica keeps all silences in memory and checks each alert against them, so their
   * number is capped. Expired silences count until pruned; two replicas creating the last one at
   * once can overshoot by one each (the count is this replica's view).
   */
  async createSilence(w: SilenceWrite): Promise<Silence> {
    this.checkSilence(w.silence);
    const held = this.silences.list().length;
    if (held >= this.limits.maxSilences) {
      throw new ConflictError(`At most ${this.limits.maxSilences} silences can exist; delete one, or wait for expired ones to be pruned`, {
        details: { limit: this.limits.maxSilences },
      });
    }
    return this.silences.create(w);
  }
  async updateSilence(id: string, w: SilenceWrite): Promise<Silence> {
    this.checkSilence(w.silence);
    return this.silences.update(id, w);
  }

  async deletePolicy(id: string): Promise<{ id: string; deleted: true }> {
    const users = this.rules.list().filter((r) => r.route.escalationPolicyId === id);
    if (users.length > 0) throw new ConflictError(`Escalation policy ${id} is used by rules ${users.map((r) => r.id).join(', ')}`);
    return this.policies.delete(id);
  }

  /** Silences that ended more than `keepMs` ago are removed (they stay listed until then). */
  async pruneSilences(keepMs: number): Promise<void> {
    const cutoff = this.clock.now() - keepMs;
    for (const s of this.silences.list()) if (Date.parse(s.endsAt) < cutoff) await this.silences.kv.mutate(s.id, (cur) => (cur ? null : undefined));
  }

  /** Create the default rules unless this installation already did (then never again). */
  async seedDefaults(): Promise<number> {
    const kv = this.rules.kv.kv;
    if (await kv.get(DEFAULT_RULES_MARKER)) return 0;
    let created = 0;
    for (const d of DEFAULT_RULES) {
      try {
        await this.rules.create(d.rule, d.id);
        created += 1;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
    await this.rules.kv.create(DEFAULT_RULES_MARKER, { id: DEFAULT_RULES_MARKER, createdAt: '', updatedAt: '' } as unknown as AlertRule);
    return created;
  }

  private checkSilence(s: SilenceInput): void {
    const issues: Array<{ path: string; message: string }> = [];
    const { maxMatchers, maxDurationMs } = this.limits;
    if (s.matchers.length > maxMatchers) issues.push({ path: 'silence.matchers', message: `at most ${maxMatchers} matchers` });
    if (Date.parse(s.endsAt) > this.clock.now() + maxDurationMs) {
      issues.push({ path: 'silence.endsAt', message: `must be at most ${Math.round(maxDurationMs / 3600_000)} hours from now` });
    }
    if (issues.length === 0) return;
    throw new ValidationError(`Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { details: { issues } });
  }

  private async checkPolicy(input: AlertRuleInput): Promise<void> {
    const id = input.route.escalationPolicyId;
    if (id === undefined) return;
    try {
      await this.policies.get(id);
    } catch {
      const issues = [{ path: 'route.escalationPolicyId', message: `escalation policy ${id} does not exist` }];
      throw new ValidationError(`Invalid request: route.escalationPolicyId: escalation policy ${id} does not exist`, { details: { issues } });
    }
  }
}
