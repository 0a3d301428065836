/** The usage report: per UTC day and capability, plus today's quota counters next to their limits. */
import { UnavailableError, type UsageReport, type UsageRequest } from '@sb/contracts';
import type { UsageStore } from '@sb/redis';
import { effectiveLimits } from '../tenants/plans';
import type { TenantsHandler } from '../tenants/tenants.handler';

export class UsageReportHandler {
  constructor(
    private readonly tenants: TenantsHandler,
    private readonly usage: UsageStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async report(req: UsageRequest): Promise<UsageReport> {
    const t = await this.tenants.get(req.id);
    const now = this.now();
    const limits = effectiveLimits(t.plan, t.limits);
    let days, today;
    try {
      [days, today] = await Promise.all([this.usage.read(t.id, req.days, now), this.usage.today(t.id, now)]);
    } catch (e) {
      throw new UnavailableError('Usage counters are unavailable; retry shortly', { cause: e, retryAfter: 2 });
    }
    return {
      tenantId: t.id,
      plan: t.plan,
      days: days.map((d) => {
        const values = Object.values(d.byCapability);
        return { day: d.day, tasks: values.reduce((s, v) => s + v.tasks, 0), tokens: values.reduce((s, v) => s + v.tokens, 0), byCapability: d.byCapability };
      }),
      today: { tasksSubmitted: today.tasks, tasksPerDay: limits.tasksPerDay, tokens: today.tokens, tokensPerDay: limits.tokensPerDay },
    };
  }
}
