/**
 * Pure aggregation of security events into the report: counts by type and tenant, top offending
 * keys. An event may stand for several refusals (`count`, aggregated per second at the source).
 */
import type { SecurityEvent, SecurityReport } from '@sb/contracts';

export function buildSecurityReport(events: Iterable<SecurityEvent>, from: Date, to: Date, top = 10): SecurityReport {
  const byType: SecurityReport['byType'] = {};
  const byTenant: Record<string, number> = {};
  const keys = new Map<string, SecurityReport['topKeys'][number]>();
  let total = 0;
  for (const e of events) {
    const n = e.count ?? 1;
    total += n;
    byType[e.type] = (byType[e.type] ?? 0) + n;
    if (e.tenantId) byTenant[e.tenantId] = (byTenant[e.tenantId] ?? 0) + n;
    const label = e.keyId ?? (e.keyPrefix ? `${e.keyPrefix}…${e.keyLast4 ?? ''}` : undefined);
    if (!label) continue;
    const entry = keys.get(label) ?? { key: label, keyId: e.keyId, keyPrefix: e.keyPrefix, keyLast4: e.keyLast4, count: 0 };
    entry.count += n;
    keys.set(label, entry);
  }
  const topKeys = [...keys.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)).slice(0, top);
  for (const k of topKeys) for (const f of ['keyId', 'keyPrefix', 'keyLast4'] as const) if (k[f] === undefined) delete k[f];
  return { from: from.toISOString(), to: to.toISOString(), total, byType, byTenant, topKeys };
}
