/**
 * Which JetStream streams belong to one deployment prefix. Every stream and bucket name is
 * built by `names(prefix)` (libs/contracts subjects.ts) as `<PREFIX>_...`, a bucket's stream
 * being `KV_<PREFIX>_...`; the topology declares the ones the services make. A backup takes
 * every stream of the prefix found on the server, declared or not (a stream added by a newer
 * version is not silently left out), and names the declared ones it did not find.
 */
import { Buckets, names, Streams } from '@sb/contracts';

/** The stream names the topology declares for a prefix: its streams, and `KV_<bucket>` for its buckets. */
export function declaredStreams(prefix: string): string[] {
  const n = names(prefix);
  return [...Object.values(Streams).map((s) => s.name(n)), ...Object.values(Buckets).map((b) => `KV_${b.name(n)}`)].sort();
}

/** `<PREFIX>_`: what every stream name of the prefix starts with, after a `KV_`. Prefixes hold no `_` (SB_PREFIX's rule). */
function ownerToken(prefix: string): string {
  const tasks = names(prefix).queue.stream;
  return tasks.slice(0, tasks.indexOf('_') + 1);
}

export function belongsToPrefix(prefix: string, stream: string): boolean {
  const bare = stream.startsWith('KV_') ? stream.slice('KV_'.length) : stream;
  return bare.startsWith(ownerToken(prefix));
}

export interface FleetStreams {
  /** On the server and of the prefix: what the backup takes. */
  found: string[];
  /** Declared for the prefix but not on the server (the span stream before the first trace, for one). */
  absent: string[];
}

/**
 * The streams first, then the buckets. Each snapshot is consistent in itself, not with the others,
 * so the order decides what a task in flight during the backup looks like after a restore: with
 * the work queue taken before the task records, a task that finished meanwhile still has its
 * queue message (redelivered, then skipped: its record is final), and only one submitted during
 * the backup can be left with a record and no queue message (it ends `timed_out`; docs/backup.md).
 */
const backupOrder = (a: string, b: string): number => Number(a.startsWith('KV_')) - Number(b.startsWith('KV_')) || a.localeCompare(b);

export function fleetStreams(prefix: string, onServer: readonly string[]): FleetStreams {
  const found = onServer.filter((s) => belongsToPrefix(prefix, s)).sort(backupOrder);
  const absent = declaredStreams(prefix).filter((s) => !found.includes(s));
  return { found, absent };
}
