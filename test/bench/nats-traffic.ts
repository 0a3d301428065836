/**
 * NATS messages per operation, by connection name, from the bench nats-server's monitoring
 * endpoint (`/connz`): how many messages each process publishes to the server and receives
 * from it for one task. A cheap, exact count of the hops a path takes (JetStream API calls,
 * acks and KV operations are each a request and a reply).
 */

export interface ConnTraffic {
  /** Messages the connection published (the server's in_msgs for it). */
  sent: number;
  /** Messages the server delivered to it (out_msgs). */
  received: number;
}
export type TrafficSnapshot = Map<string, ConnTraffic>;

interface Connz {
  connections?: Array<{ name?: string; in_msgs?: number; out_msgs?: number }>;
}

/** Totals per connection name (unnamed connections are grouped as "(unnamed)"). */
export async function scrapeConnz(monitorUrl: string): Promise<TrafficSnapshot> {
  const out: TrafficSnapshot = new Map();
  try {
    const res = await fetch(`${monitorUrl}/connz?limit=4096`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json()) as Connz;
    for (const c of body.connections ?? []) {
      const name = c.name || '(unnamed)';
      const t = out.get(name) ?? { sent: 0, received: 0 };
      t.sent += c.in_msgs ?? 0;
      t.received += c.out_msgs ?? 0;
      out.set(name, t);
    }
  } catch {
    /* monitoring unavailable: no traffic table */
  }
  return out;
}

/** Per-operation messages for every connection that moved at least one per 20 operations. */
export function trafficPerOp(before: TrafficSnapshot, after: TrafficSnapshot, ops: number): Map<string, ConnTraffic> {
  const out = new Map<string, ConnTraffic>();
  if (ops <= 0) return out;
  for (const [name, end] of after) {
    const start = before.get(name) ?? { sent: 0, received: 0 };
    const sent = (end.sent - start.sent) / ops;
    const received = (end.received - start.received) / ops;
    if (sent >= 0.05 || received >= 0.05) out.set(name, { sent, received });
  }
  return out;
}
