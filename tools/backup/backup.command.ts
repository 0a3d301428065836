/**
 * `sb backup --out <dir>`: every JetStream stream and KV bucket of the deployment prefix, taken
 * with JetStream's own snapshot API from a running fleet, into a new directory (0700, files
 * 0600) with a manifest of checksums written last (manifest.ts). docs/backup.md is the procedure.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '@sb/config';
import { packageVersion } from '../../apps/agent-worker/src/host/package-version';
import { UsageError } from '../usage-error';
import { asBackupError, BackupError } from './backup-error';
import { connectForBackup, listStreams, loadBackupEnv, watchPermissions } from './backup-nats';
import { humanBytes, parseArgs, plural, seconds } from './cli-args';
import { fleetStreams } from './fleet-streams';
import { snapshotStream } from './jetstream-snapshot';
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, type Manifest, type StreamEntry, streamFileOf, writeManifest } from './manifest';

export const BACKUP_USAGE = 'usage: sb backup --out <dir> [--prefix sb] [--check]   (env NATS_URL, NATS_CREDS: the platform-admin user)';
const PREFIX = /^[a-z][a-z0-9]{0,15}$/;
const API_TIMEOUT_MS = 30_000;

export interface BackupResult {
  manifest: Manifest;
  totalBytes: number;
  elapsedMs: number;
}

/** Makes `dir` (0700) for a new backup; refuses one that holds anything already. */
function prepareOutDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new BackupError('BACKUP.OUT_NOT_EMPTY', `${dir} is not empty: back up into a new directory (a backup never mixes with another)`);
  }
  mkdirSync(join(dir, 'streams'), { recursive: true, mode: 0o700 });
  // mkdir leaves an existing (empty) directory's mode as it was.
  chmodSync(dir, 0o700);
  chmodSync(join(dir, 'streams'), 0o700);
}

export async function backupFleet(
  o: { out: string; prefix: string; checkMsgs: boolean; env: ReturnType<typeof loadBackupEnv> },
  log: (s: string) => void,
): Promise<BackupResult> {
  const started = Date.now();
  const createdAt = new Date(started).toISOString();
  const nc = await connectForBackup(o.env, 'sb-backup');
  const permissions = watchPermissions(nc);
  try {
    const { found, absent } = fleetStreams(o.prefix, await listStreams(nc, API_TIMEOUT_MS));
    if (found.length === 0) {
      const hint = "is SB_PREFIX (or --prefix) the fleet's, and NATS_CREDS a user of its PLATFORM account?";
      throw new BackupError('BACKUP.NOT_FOUND', `no stream of prefix "${o.prefix}" on ${o.env.NATS_URL}: ${hint}`);
    }
    prepareOutDir(o.out);
    const streams: StreamEntry[] = [];
    for (const name of found) {
      const t0 = Date.now();
      const snapshotAt = new Date(t0).toISOString();
      const file = streamFileOf(name);
      const snap = await snapshotStream(nc, name, join(o.out, file), { checkMsgs: o.checkMsgs, timeoutMs: API_TIMEOUT_MS });
      await permissions.assertPermitted(`snapshot of ${name}`);
      const { bytes, sha256, config, state } = snap;
      streams.push({ name, kind: name.startsWith('KV_') ? 'kv' : 'stream', file, bytes, sha256, snapshotAt, config, state });
      log(`  ${name}: ${plural(Number(snap.state.messages), 'message')}, ${humanBytes(snap.bytes)} in ${seconds(Date.now() - t0)}\n`);
    }
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      switchboardVersion: packageVersion(__dirname),
      prefix: o.prefix,
      createdAt,
      completedAt: new Date().toISOString(),
      natsServer: { version: nc.info?.version ?? 'unknown', ...(nc.info?.server_name ? { name: nc.info.server_name } : {}) },
      streams,
    };
    writeManifest(o.out, manifest);
    if (absent.length > 0) log(`  not on the server (never created yet, nothing to back up): ${absent.join(', ')}\n`);
    return { manifest, totalBytes: streams.reduce((s, e) => s + e.bytes, 0), elapsedMs: Date.now() - started };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** `sb backup ...`: exit status 0; throws UsageError or BackupError. */
export async function runBackup(args: string[], env: Env, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const a = parseArgs(args, { valued: ['out', 'prefix'], flags: ['check'] });
  if (a.positionals.length > 0) throw new UsageError(`unexpected argument ${a.positionals[0]}`);
  if (!a.values.out) throw new UsageError('missing --out <dir>');
  const backupEnv = loadBackupEnv(env);
  const prefix = a.values.prefix ?? backupEnv.SB_PREFIX;
  if (!PREFIX.test(prefix)) throw new UsageError(`--prefix ${prefix}: expected 1-16 lowercase letters/digits, first a letter (SB_PREFIX)`);
  out(`backing up the streams and buckets of prefix "${prefix}" from ${backupEnv.NATS_URL} to ${a.values.out}\n`);
  const r = await backupFleet({ out: a.values.out, prefix, checkMsgs: a.flags.has('check'), env: backupEnv }, out).catch((err: unknown) => {
    throw asBackupError(err);
  });
  out(`backed up ${r.manifest.streams.length} streams (${humanBytes(r.totalBytes)}) in ${seconds(r.elapsedMs)}: ${join(a.values.out, 'manifest.json')}\n`);
  out('the backup holds secrets as stored (sealed signing keys, key hashes, webhook secrets in the clear): keep it as you keep SB_KEK\n');
  return 0;
}
