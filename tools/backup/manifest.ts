/**
 * The backup directory's manifest (`manifest.json`): what was backed up, from which fleet, and
 * the size and sha256 of every file, so a restore can refuse a truncated, corrupted or edited
 * backup before it changes anything. It is written last: a directory without one is an
 * interrupted backup and no restore accepts it.
 *
 *   manifest.json              this file
 *   streams/<STREAM>.tar.s2    JetStream's own snapshot of one stream or KV bucket (`KV_<bucket>`),
 *                              byte for byte as the server streamed it (an s2-compressed tar)
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BackupError } from './backup-error';

export const MANIFEST_FILE = 'manifest.json';
export const BACKUP_FORMAT = 'switchboard-backup';
export const BACKUP_FORMAT_VERSION = 1;

/** JetStream's stream and bucket names: what the server accepts, and safe as a file name. */
const STREAM_NAME = /^[A-Za-z0-9_-]{1,255}$/;
export const streamFileOf = (stream: string): string => `streams/${stream}.tar.s2`;

/** JetStream's own JSON (a stream's config and state), kept as the server gave it and sent back unchanged. */
const ServerJson = z.record(z.string(), z.unknown());

export const StreamEntrySchema = z
  .object({
    name: z.string().regex(STREAM_NAME, 'not a JetStream stream name'),
    /** `kv`: the stream behind a KV bucket (`KV_<bucket>`). */
    kind: z.enum(['stream', 'kv']),
    file: z.string(),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** When its snapshot began: each stream is consistent in itself, not with the others (docs/backup.md). */
    snapshotAt: z.iso.datetime(),
    config: ServerJson.refine((c) => typeof c.name === 'string', 'config.name is missing'),
    state: ServerJson.refine((s) => typeof s.messages === 'number' && typeof s.last_seq === 'number', 'state.messages/last_seq are missing'),
  })
  .strict()
  .refine((e) => e.file === streamFileOf(e.name), { message: 'file is not streams/<name>.tar.s2', path: ['file'] })
  .refine((e) => e.config.name === e.name, { message: 'config.name is not the stream name', path: ['config', 'name'] })
  .refine((e) => (e.kind === 'kv') === e.name.startsWith('KV_'), { message: 'kind kv is for KV_<bucket> streams only', path: ['kind'] });
export type StreamEntry = z.output<typeof StreamEntrySchema>;

export const ManifestSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    formatVersion: z.literal(BACKUP_FORMAT_VERSION),
    switchboardVersion: z.string(),
    /** The deployment prefix (SB_PREFIX) the streams belong to: the restored fleet must run with it. */
    prefix: z.string().regex(/^[a-z][a-z0-9]{0,15}$/),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
    natsServer: z.object({ version: z.string(), name: z.string().optional() }).strict(),
    streams: z.array(StreamEntrySchema),
  })
  .strict()
  .refine((m) => new Set(m.streams.map((s) => s.name)).size === m.streams.length, { message: 'a stream is listed twice', path: ['streams'] });
export type Manifest = z.output<typeof ManifestSchema>;

/** sha256 (hex) and size of a file, read in 1 MiB pieces (backups can be large). */
export function digestFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Written whole under a temporary name and renamed: a reader never sees half a manifest. Mode 0600. */
export function writeManifest(dir: string, m: Manifest): void {
  const file = join(dir, MANIFEST_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(ManifestSchema.parse(m), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new BackupError('BACKUP.NOT_FOUND', `${file} is missing: not a backup directory, or a backup that did not finish (it is written last)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BackupError('BACKUP.INVALID', `${file}: not JSON (${(err as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new BackupError('BACKUP.INVALID', `${file}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * Every file the manifest lists is there, of the recorded size and sha256. Checks them all
 * before any restore begins, and names every bad one, so nothing is half restored from a bad copy.
 */
export function verifyBackup(dir: string, m: Manifest): void {
  const bad: string[] = [];
  for (const s of m.streams) {
    const path = join(dir, s.file);
    if (!existsSync(path)) {
      bad.push(`${s.file}: missing`);
      continue;
    }
    const actual = digestFile(path);
    if (actual.bytes !== s.bytes) bad.push(`${s.file}: ${actual.bytes} bytes, the manifest says ${s.bytes}`);
    else if (actual.sha256 !== s.sha256) bad.push(`${s.file}: sha256 ${actual.sha256}, the manifest says ${s.sha256}`);
  }
  if (bad.length > 0) {
    throw new BackupError('BACKUP.CHECKSUM_MISMATCH', `${dir}: ${bad.length} of ${m.streams.length} files do not match the manifest, nothing restored: ${bad.join('; ')}`);
  }
}
