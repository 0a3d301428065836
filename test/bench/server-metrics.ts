/**
 * Server-side time per stage, from the services' own Prometheus histograms: a snapshot of
 * `_sum`/`_count` before and after a measuring window, so the difference covers exactly the
 * window. Complements the client-side stage split with what each handler itself spent.
 */

export interface Histo {
  sum: number;
  count: number;
}
export type Snapshot = Map<string, Histo>;

const LINE = /^(sb_request_duration_seconds|sb_worker_task_duration_seconds)_(sum|count)\{([^}]*)\}\s+(\S+)$/;

/** Keys: `<metric>|<endpoint or capability>`, summed over the other labels (outcome, service). */
export function parseMetrics(text: string): Snapshot {
  const out: Snapshot = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = new Map<string, string>();
    for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels.set(l[1], l[2]);
    const what = labels.get('endpoint') ?? labels.get('capability') ?? '';
    const key = `${m[1]}|${what}`;
    const h = out.get(key) ?? { sum: 0, count: 0 };
    if (m[2] === 'sum') h.sum += Number(m[4]);
    else h.count += Number(m[4]);
    out.set(key, h);
  }
  return out;
}

export async function scrape(baseUrl: string): Promise<Snapshot> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return parseMetrics(await res.text());
  } catch {
    return new Map();
  }
}

export interface ServiceUrls {
  [service: string]: string;
}
export type FleetSnapshot = Map<string, Snapshot>;

export async function scrapeFleet(urls: ServiceUrls): Promise<FleetSnapshot> {
  const entries = await Promise.all(Object.entries(urls).map(async ([name, url]) => [name, await scrape(url)] as const));
  return new Map(entries);
}

export interface StageTime {
  /** Mean seconds → ms over the window. */
  meanMs: number;
  count: number;
}

/** Mean of one histogram over the window between two fleet snapshots. */
export function windowMean(before: FleetSnapshot, after: FleetSnapshot, service: string, key: string): StageTime | undefined {
  const a = after.get(service)?.get(key);
  if (!a) return undefined;
  const b = before.get(service)?.get(key) ?? { sum: 0, count: 0 };
  const count = a.count - b.count;
  if (count <= 0) return { meanMs: Number.NaN, count: 0 };
  return { meanMs: ((a.sum - b.sum) / count) * 1000, count };
}
