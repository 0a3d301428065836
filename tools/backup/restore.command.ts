/**
 * `sb restore <dir> [--force] [--replicas n]`: puts a backup's streams and buckets back with JetStream's own
 * restore API. In order, and stopping at the first refusal:
 *   1. the manifest is read and every file checked against its size and sha256 (offline);
 *   2. the streams it holds must not exist on the server (`--force` deletes them first);
 *   3. each stream is restored, and what the server then reports is checked against the manifest.
 * Run it before the services start (they create empty streams and buckets at boot). docs/backup.md.
 */
import { join } from 'node:path';
import type { Env } from '@sb/config';
import { UsageError } from '../usage-error';
import { asBackupError, BackupError } from './backup-error';
import { connectForBackup, listStreams, loadBackupEnv, watchPermissions } from './backup-nats';
import { humanBytes, parseArgs, plural, seconds } from './cli-args';
import { deleteStream, restoreStream } from './jetstream-snapshot';
import { type Manifest, readManifest, type StreamEntry, verifyBackup } from './manifest';

export const RESTORE_USAGE = 'usage: sb restore <dir> [--force] [--replicas <n>]   (env NATS_URL, NATS_CREDS: the platform-admin user)';
const API_TIMEOUT_MS = 30_000;

/**
 * What the restored stream must hold: the same last sequence, and the same number of messages, or
 * fewer for a stream with a max age (messages that aged out since the backup are dropped on load).
 */
export function restoredStateProblem(entry: Pick<StreamEntry, 'name' | 'config' | 'state'>, restored: Record<string, unknown>): string | undefined {
  const want = entry.state as { messages: number; last_seq: number };
  const got = restored as { messages?: number; last_seq?: number };
  if (got.last_seq !== want.last_seq) return `${entry.name}: last sequence ${String(got.last_seq)}, backed up ${want.last_seq}`;
  const maxAge = Number(entry.config.max_age ?? 0);
  const ok = maxAge > 0 ? (got.messages ?? -1) <= want.messages && (got.messages ?? -1) >= 0 : got.messages === want.messages;
  return ok ? undefined : `${entry.name}: ${String(got.messages)} messages, backed up ${want.messages}`;
}

export interface RestoreResult {
  manifest: Manifest;
  replaced: string[];
  elapsedMs: number;
}

export interface RestoreFleetOptions {
  dir: string;
  /** Delete the backup's streams where they exist, then restore them. */
  force: boolean;
  /** JetStream replicas of every restored stream (a 3-node cluster's backup into one server); default: as backed up. */
  replicas?: number;
  env: ReturnType<typeof loadBackupEnv>;
}

export async function restoreFleet(o: RestoreFleetOptions, log: (s: string) => void): Promise<RestoreResult> {
  const started = Date.now();
  const manifest = readManifest(o.dir);
  verifyBackup(o.dir, manifest);
  log(`checked ${manifest.streams.length} files against ${join(o.dir, 'manifest.json')} (prefix "${manifest.prefix}", taken ${manifest.createdAt})\n`);
  const nc = await connectForBackup(o.env, 'sb-restore');
  const permissions = watchPermissions(nc);
  try {
    const onServer = new Set(await listStreams(nc, API_TIMEOUT_MS));
    const existing = manifest.streams.map((s) => s.name).filter((n) => onServer.has(n));
    if (existing.length > 0 && !o.force) {
      throw new BackupError(
        'BACKUP.STREAMS_EXIST',
        `${existing.length} of the backup's streams exist on ${o.env.NATS_URL}, nothing restored: ${existing.join(', ')}. ` +
          'Restore into a fresh server before the services start, or replace them with --force (their current content is lost)',
      );
    }
    const problems: string[] = [];
    for (const entry of manifest.streams) {
      const t0 = Date.now();
      if (onServer.has(entry.name)) await deleteStream(nc, entry.name, API_TIMEOUT_MS);
      // The config sent is the restored stream's identity (the server takes it over the snapshot's), the name excepted.
      const config = o.replicas ? { ...entry.config, num_replicas: o.replicas } : entry.config;
      const { state } = await restoreStream(nc, { ...entry, config }, join(o.dir, entry.file), { timeoutMs: API_TIMEOUT_MS });
      await permissions.assertPermitted(`restore of ${entry.name}`);
      const problem = restoredStateProblem(entry, state);
      if (problem) problems.push(problem);
      const replaced = onServer.has(entry.name) ? ' (replaced)' : '';
      log(`  ${entry.name}: ${plural(Number(state.messages), 'message')}${replaced} in ${seconds(Date.now() - t0)}${problem ? `: ${problem}` : ''}\n`);
    }
    if (problems.length > 0) throw new BackupError('BACKUP.VERIFY_FAILED', `restored, but not as backed up: ${problems.join('; ')}`);
    return { manifest, replaced: existing, elapsedMs: Date.now() - started };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** `sb restore ...`: exit status 0; throws UsageError or BackupError. */
export async function runRestore(args: string[], env: Env, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const a = parseArgs(args, { valued: ['replicas'], flags: ['force'] });
  if (a.positionals.length !== 1) throw new UsageError(a.positionals.length === 0 ? 'missing the backup directory' : `unexpected argument ${a.positionals[1]}`);
  const replicas = a.values.replicas === undefined ? undefined : Number(a.values.replicas);
  if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1 && replicas <= 5)) throw new UsageError(`--replicas ${a.values.replicas}: expected 1 to 5`);
  const restoreEnv = loadBackupEnv(env);
  const r = await restoreFleet({ dir: a.positionals[0], force: a.flags.has('force'), replicas, env: restoreEnv }, out).catch((err: unknown) => {
    throw asBackupError(err);
  });
  const bytes = r.manifest.streams.reduce((s, e) => s + e.bytes, 0);
  out(`restored ${r.manifest.streams.length} streams (${humanBytes(bytes)}) to ${restoreEnv.NATS_URL} in ${seconds(r.elapsedMs)}\n`);
  out(`start the services with SB_PREFIX=${r.manifest.prefix}, the same SB_KEK / SB_KEK_FILE and the same NATS keys (docs/backup.md)\n`);
  return 0;
}
