import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './cli';

describe('sb CLI', () => {
  let dir: string;
  let stderr: jest.SpyInstance;
  let stdout: jest.SpyInstance;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates the manifests of a spec into --out', async () => {
    expect(await main(['manifests', join(__dirname, '../deploy/fleet.yaml'), '--out', dir])).toBe(0);
    expect(stdout.mock.calls.join('')).toMatch(/^wrote 22 files to /);
    expect(readFileSync(join(dir, 'kubernetes/00-namespace.yaml'), 'utf8')).toContain('kind: Namespace');
  });

  it('exits 65 naming the bad field of an invalid spec', async () => {
    const bad = join(dir, 'fleet.yaml');
    writeFileSync(bad, readFileSync(join(__dirname, '../deploy/fleet.yaml'), 'utf8').replace('jetstreamReplicas: 3', 'jetstreamReplicas: many'));
    expect(await main(['manifests', bad, '--out', dir])).toBe(65);
    expect(stderr.mock.calls.join('')).toMatch(/spec\.jetstreamReplicas: /);
  });

  it('exits 64 on usage errors and 66 on a missing file', async () => {
    expect(await main(['manifests'])).toBe(64);
    expect(await main(['manifests', 'a.yaml', '--bogus'])).toBe(64);
    expect(await main(['deploy'])).toBe(64);
    expect(await main(['manifests', join(dir, 'missing.yaml')])).toBe(66);
  });

  it('backup and restore: exit 64 on usage errors, 66 on a directory that holds no backup, never a stack trace', async () => {
    expect(await main(['backup'])).toBe(64);
    expect(await main(['backup', '--out', dir, '--bogus'])).toBe(64);
    expect(await main(['backup', '--out', dir, '--prefix', 'Not_A_Prefix'])).toBe(64);
    expect(await main(['restore'])).toBe(64);
    expect(await main(['restore', dir, 'extra'])).toBe(64);
    expect(await main(['restore', dir, '--replicas', '0'])).toBe(64);
    expect(await main(['restore', dir])).toBe(66);
    const printed = stderr.mock.calls.join('');
    expect(printed).toContain('usage: sb backup --out <dir>');
    expect(printed).toMatch(/sb restore: BACKUP\.NOT_FOUND: .*manifest\.json is missing/);
    expect(printed).not.toMatch(/\n\s+at /);
  });
});
