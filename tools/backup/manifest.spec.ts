import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupError } from './backup-error';
import { belongsToPrefix, declaredStreams, fleetStreams } from './fleet-streams';
import { BACKUP_FORMAT, digestFile, type Manifest, MANIFEST_FILE, readManifest, streamFileOf, verifyBackup, writeManifest } from './manifest';
import { restoredStateProblem, runRestore } from './restore.command';

const at = '2026-01-02T03:04:05.000Z';

/** A backup directory as `sb backup` leaves it: two stream files and the manifest naming their checksums. */
function makeBackup(dir: string): Manifest {
  mkdirSync(join(dir, 'streams'), { recursive: true });
  const streams = (['KV_SB_keys', 'SB_TASKS'] as const).map((name, i) => {
    const file = streamFileOf(name);
    writeFileSync(join(dir, file), Buffer.from(`snapshot bytes of ${name} `.repeat(100 + i)), { mode: 0o600 });
    const { sha256, bytes } = digestFile(join(dir, file));
    return {
      name,
      kind: name.startsWith('KV_') ? ('kv' as const) : ('stream' as const),
      file,
      bytes,
      sha256,
      snapshotAt: at,
      config: { name, subjects: [`$KV.${name}.>`], max_age: 0 },
      state: { messages: 3, last_seq: 7, consumer_count: 0 },
    };
  });
  const m: Manifest = { format: BACKUP_FORMAT, formatVersion: 1, switchboardVersion: '0.1.0', prefix: 'sb', createdAt: at, completedAt: at, natsServer: { version: '2.9.10' }, streams };
  writeManifest(dir, m);
  return m;
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof BackupError) return e.code;
    throw e;
  }
  return undefined;
};

describe('backup manifest and checksums', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-backup-manifest-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what it wrote (mode 0600), and accepts untouched files', () => {
    const m = makeBackup(dir);
    expect(statSync(join(dir, MANIFEST_FILE)).mode & 0o777).toBe(0o600);
    expect(readManifest(dir)).toEqual(m);
    expect(() => verifyBackup(dir, m)).not.toThrow();
  });

  it('refuses a file changed in place, naming it and both checksums', () => {
    const m = makeBackup(dir);
    const file = join(dir, streamFileOf('SB_TASKS'));
    const bytes = readFileSync(file);
    bytes[10] ^= 0xff; // same size, one byte flipped
    writeFileSync(file, bytes);
    let err: BackupError | undefined;
    try {
      verifyBackup(dir, readManifest(dir));
    } catch (e) {
      err = e as BackupError;
    }
    expect(err).toBeInstanceOf(BackupError);
    expect(err!.code).toBe('BACKUP.CHECKSUM_MISMATCH');
    expect(err!.exitCode).toBe(65);
    expect(err!.message).toContain('streams/SB_TASKS.tar.s2: sha256 ');
    expect(err!.message).toContain(`the manifest says ${m.streams[1].sha256}`);
    expect(err!.message).not.toContain('KV_SB_keys');
  });

  it('refuses a truncated, an extended and a missing file', () => {
    makeBackup(dir);
    const kv = join(dir, streamFileOf('KV_SB_keys'));
    writeFileSync(kv, readFileSync(kv).subarray(0, 100));
    appendFileSync(join(dir, streamFileOf('SB_TASKS')), 'x');
    expect(() => verifyBackup(dir, readManifest(dir))).toThrow(/2 of 2 files do not match.*KV_SB_keys\.tar\.s2: 100 bytes.*SB_TASKS\.tar\.s2: \d+ bytes/);
    rmSync(kv);
    expect(() => verifyBackup(dir, readManifest(dir))).toThrow(/KV_SB_keys\.tar\.s2: missing/);
  });

  it('refuses a directory without a manifest (an interrupted backup), and a manifest that is not one', () => {
    expect(codeOf(() => readManifest(dir))).toBe('BACKUP.NOT_FOUND');
    writeFileSync(join(dir, MANIFEST_FILE), '{"format": "switchboard-backup"');
    expect(codeOf(() => readManifest(dir))).toBe('BACKUP.INVALID');
    const m = makeBackup(mkdtempSync(join(dir, 'ok-')));
    const edits: [string, (x: any) => void][] = [
      ['a newer format', (x) => (x.formatVersion = 2)],
      ['a file outside streams/', (x) => (x.streams[0].file = '../../etc/passwd')],
      ['a config naming another stream', (x) => (x.streams[1].config.name = 'SB_OTHER')],
      ['a stream listed twice', (x) => x.streams.push(x.streams[0])],
      ['a short checksum', (x) => (x.streams[0].sha256 = 'abc')],
      ['an unknown field', (x) => (x.note = 'hi')],
    ];
    for (const [what, edit] of edits) {
      const copy = JSON.parse(JSON.stringify(m));
      edit(copy);
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(copy));
      expect([what, codeOf(() => readManifest(dir))]).toEqual([what, 'BACKUP.INVALID']);
    }
  });

  it('sb restore checks every file before it connects to anything', async () => {
    makeBackup(dir);
    appendFileSync(join(dir, streamFileOf('SB_TASKS')), 'tampered');
    // Port 1: had it tried to connect first, this would be BACKUP.NATS_UNAVAILABLE.
    await expect(runRestore([dir], { NATS_URL: 'nats://127.0.0.1:1' }, () => undefined)).rejects.toMatchObject({ code: 'BACKUP.CHECKSUM_MISMATCH' });
  });
});

describe('what a restored stream must hold', () => {
  const entry = { name: 'SB_DLQ', config: { name: 'SB_DLQ', max_age: 0 }, state: { messages: 5, last_seq: 9 } };

  it('the same last sequence and message count', () => {
    expect(restoredStateProblem(entry, { messages: 5, last_seq: 9 })).toBeUndefined();
    expect(restoredStateProblem(entry, { messages: 4, last_seq: 9 })).toBe('SB_DLQ: 4 messages, backed up 5');
    expect(restoredStateProblem(entry, { messages: 5, last_seq: 8 })).toBe('SB_DLQ: last sequence 8, backed up 9');
  });

  it('fewer messages only where a max age may have dropped some since the backup', () => {
    const aging = { ...entry, config: { name: 'SB_DLQ', max_age: 86_400_000_000_000 } };
    expect(restoredStateProblem(aging, { messages: 2, last_seq: 9 })).toBeUndefined();
    expect(restoredStateProblem(aging, { messages: 6, last_seq: 9 })).toBe('SB_DLQ: 6 messages, backed up 5');
  });
});

describe('the streams of a prefix', () => {
  it('are its streams, then its buckets, not another prefix’s', () => {
    const onServer = ['SB_TASKS', 'KV_SB_keys', 'SB_NEW_THING', 'SBX_TASKS', 'KV_SBX_keys', 'KV_other', 'ORDERS'];
    expect(fleetStreams('sb', onServer).found).toEqual(['SB_NEW_THING', 'SB_TASKS', 'KV_SB_keys']);
    expect(fleetStreams('sbx', onServer).found).toEqual(['SBX_TASKS', 'KV_SBX_keys']);
    expect(belongsToPrefix('sb', 'KV_SB_tasks')).toBe(true);
    expect(belongsToPrefix('sb', 'KV_SBX_tasks')).toBe(false);
  });

  it('names the declared ones the server does not have', () => {
    const declared = declaredStreams('sb');
    expect(declared).toEqual(expect.arrayContaining(['SB_TASKS', 'SB_DLQ', 'KV_SB_keys', 'KV_SB_keys_signing', 'KV_SB_tenants', 'KV_SB_alert_rules', 'KV_SB_notify_channels', 'KV_SB_tasks']));
    expect(fleetStreams('sb', ['SB_TASKS']).absent).toEqual(declared.filter((s) => s !== 'SB_TASKS'));
  });
});
