import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, parseCreds } from '@nats-io/jwt';
import { agentPermissions, inboxPrefixOf, names, type NatsPermissions, PLATFORM_SERVICES, servicePermissions, subscriberPermissions } from '@sb/contracts';
import { authSecretsOf, type NatsSecurity, publicKeyOf } from '@sb/messaging/nats-auth';
import { readNatsAuthSecretsFile } from '../apps/auth/src/nats/nats-auth-file';
import { loadKek } from '../apps/auth/src/secrets/sealed-box';
import { main } from './cli';
import { NATS_SECURITY_FILES } from './nats-init';

// Every run signs about fifteen JWTs with ed25519 in JavaScript: a second or more on a busy machine.
jest.setTimeout(30_000);

const enc = new TextEncoder();
const mode = (file: string) => statSync(file).mode & 0o777;
const readSecurity = (dir: string): NatsSecurity => JSON.parse(readFileSync(join(dir, NATS_SECURITY_FILES.security), 'utf8')) as NatsSecurity;

/** A .creds file as any NATS client reads it: the user JWT's claims, and the public key of the seed beside it. */
async function readCreds(file: string) {
  const { uc, key } = await parseCreds(enc.encode(readFileSync(file, 'utf8')));
  return { claims: uc, seedPublic: publicKeyOf(key) };
}
/** The permissions a user JWT carries, in the shape nats-access.ts declares them. */
const permissionsOf = (nats: { pub?: NatsPermissions['pub']; sub?: NatsPermissions['sub'] }): NatsPermissions => ({ pub: nats.pub ?? {}, sub: nats.sub ?? {} });
const plain = (p: NatsPermissions): NatsPermissions => JSON.parse(JSON.stringify(p)) as NatsPermissions;

describe('sb nats init', () => {
  let root: string;
  let out: string;
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sb-nats-init-'));
    out = join(root, 'nats-auth');
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  describe('into a new directory', () => {
    // One run (signing is slow); each test reads what it wrote.
    let dir: string;
    let s: NatsSecurity;
    let printed: string;
    beforeAll(async () => {
      dir = join(mkdtempSync(join(tmpdir(), 'sb-nats-init-')), 'nats-auth');
      const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
      expect(await main(['nats', 'init', '--out', dir, '--prefix', 'acme', '--resolver-dir', '/var/lib/nats/jwt'])).toBe(0);
      printed = write.mock.calls.join('');
      write.mockRestore();
      s = readSecurity(dir);
    });
    afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

    it('writes the keys, the server config and every credential, readable by the owner only', () => {
      const services = PLATFORM_SERVICES.map((x) => `${x}.creds`);
      expect(readdirSync(dir).sort()).toEqual(
        ['security.json', 'auth.conf', 'auth-secrets.json', 'agent-worker.creds', 'ops.creds', 'platform-admin.creds', ...services].sort(),
      );
      expect(mode(dir)).toBe(0o700);
      for (const f of readdirSync(dir)) expect([f, mode(join(dir, f))]).toEqual([f, 0o600]);
      expect(printed).toMatch(/made new NATS keys in .*security\.json: .* keep a copy offline/);
      expect(printed).toMatch(/auth-secrets\.json is plaintext: auth refuses it when NODE_ENV=production/);
    });

    it('writes an operator-mode server config, its resolver keeping JWTs in --resolver-dir', () => {
      const conf = readFileSync(join(dir, 'auth.conf'), 'utf8');
      const operator = decode<{ system_account: string }>(/^operator: (\S+)$/m.exec(conf)?.[1] ?? '');
      expect(operator.sub).toBe(publicKeyOf(s.operator));
      expect(operator.nats.system_account).toBe(publicKeyOf(s.sys));
      expect(conf).toContain('resolver: { type: full, dir: "/var/lib/nats/jwt"');
      for (const account of [s.sys, s.platform, s.agents, s.ops]) expect(conf).toContain(`  ${publicKeyOf(account)}: ey`);
      expect(JSON.parse(readFileSync(join(dir, 'auth-secrets.json'), 'utf8'))).toEqual(authSecretsOf(s));
    });

    it("gives each service a PLATFORM user with exactly its declared permissions, for --prefix's subjects", async () => {
      for (const service of PLATFORM_SERVICES) {
        const { claims, seedPublic } = await readCreds(join(dir, `${service}.creds`));
        expect(claims.iss).toBe(publicKeyOf(s.platform));
        expect(claims.sub).toBe(seedPublic);
        expect(permissionsOf(claims.nats)).toEqual(plain(servicePermissions(names('acme'), service)));
      }
    });

    it('gives the worker a pool agent user, ops a read-only subscriber and the operator a platform admin', async () => {
      const agent = await readCreds(join(dir, 'agent-worker.creds'));
      expect(agent.claims.iss).toBe(publicKeyOf(s.agents));
      expect(permissionsOf(agent.claims.nats)).toEqual(plain(agentPermissions(names('acme'), '*', inboxPrefixOf(agent.seedPublic))));
      const ops = await readCreds(join(dir, 'ops.creds'));
      expect(ops.claims.iss).toBe(publicKeyOf(s.ops));
      expect(permissionsOf(ops.claims.nats)).toEqual(plain(subscriberPermissions(names('acme'))));
      const admin = await readCreds(join(dir, 'platform-admin.creds'));
      expect(admin.claims.iss).toBe(publicKeyOf(s.platform));
      expect(permissionsOf(admin.claims.nats)).toEqual({ pub: { allow: ['>'] }, sub: { allow: ['>'] } });
    });
  });

  it('run again, keeps the keys and re-mints every credential from them (prefix sb, resolver dir /data/jwt by default)', async () => {
    expect(await main(['nats', 'init', '--out', out, '--prefix', 'acme'])).toBe(0);
    const keys = readFileSync(join(out, 'security.json'), 'utf8');
    const before = await readCreds(join(out, 'gateway.creds'));
    // A file left readable by others is replaced by a 0600 one.
    chmodSync(join(out, 'gateway.creds'), 0o644);
    stdout.mockClear();

    expect(await main(['nats', 'init', '--out', out])).toBe(0);
    expect(readFileSync(join(out, 'security.json'), 'utf8')).toBe(keys);
    const after = await readCreds(join(out, 'gateway.creds'));
    expect(after.seedPublic).not.toBe(before.seedPublic);
    expect(after.claims.iss).toBe(before.claims.iss);
    expect(permissionsOf(after.claims.nats)).toEqual(plain(servicePermissions(names('sb'), 'gateway')));
    expect(mode(join(out, 'gateway.creds'))).toBe(0o600);
    expect(readFileSync(join(out, 'auth.conf'), 'utf8')).toContain('resolver: { type: full, dir: "/data/jwt"');
    expect(stdout.mock.calls.join('')).toMatch(/kept the NATS keys in .*security\.json \(--force makes new ones\)/);
  });

  it('makes new keys only with --force', async () => {
    await main(['nats', 'init', '--out', out]);
    const old = readSecurity(out);
    expect(await main(['nats', 'init', '--out', out, '--force'])).toBe(0);
    const fresh = readSecurity(out);
    expect(fresh.operator).not.toBe(old.operator);
    expect(fresh.platform).not.toBe(old.platform);
    expect((await readCreds(join(out, 'auth.creds'))).claims.iss).toBe(publicKeyOf(fresh.platform));
    expect(stdout.mock.calls.join('')).toMatch(/every credential made with the old ones no longer connects/);
  });

  it('exits 65 on a security.json that is not its own, and writes nothing', async () => {
    await main(['nats', 'init', '--out', out]);
    const gateway = readFileSync(join(out, 'gateway.creds'), 'utf8');
    const s = readSecurity(out);
    writeFileSync(join(out, 'security.json'), JSON.stringify({ ...s, platform: s.operator }));
    expect(await main(['nats', 'init', '--out', out])).toBe(65);
    expect(stderr.mock.calls.join('')).toMatch(/security\.json: "platform" is not an account seed/);
    writeFileSync(join(out, 'security.json'), '{"v":');
    expect(await main(['nats', 'init', '--out', out])).toBe(65);
    expect(stderr.mock.calls.join('')).toMatch(/security\.json: not JSON/);
    expect(readFileSync(join(out, 'gateway.creds'), 'utf8')).toBe(gateway);
  });

  it("seals auth-secrets.json with auth's KEK (--kek-file, made once if missing), as auth reads it in production", async () => {
    const kekFile = join(out, 'kek');
    expect(await main(['nats', 'init', '--out', out, '--kek-file', kekFile])).toBe(0);
    expect(mode(kekFile)).toBe(0o600);
    const kek = readFileSync(kekFile, 'utf8');
    expect(stdout.mock.calls.join('')).toMatch(/made a new key-encryption key in .*kek/);
    expect(readFileSync(join(out, 'auth-secrets.json'), 'utf8')).not.toContain(readSecurity(out).operatorSigning);
    expect(readNatsAuthSecretsFile(join(out, 'auth-secrets.json'), loadKek({ SB_KEK_FILE: kekFile }), true)).toEqual(authSecretsOf(readSecurity(out)));

    stdout.mockClear();
    expect(await main(['nats', 'init', '--out', out, '--kek-file', kekFile, '--force'])).toBe(0);
    expect(readFileSync(kekFile, 'utf8')).toBe(kek);
    expect(stdout.mock.calls.join('')).not.toMatch(/key-encryption key/);
    expect(readNatsAuthSecretsFile(join(out, 'auth-secrets.json'), loadKek({ SB_KEK_FILE: kekFile }), true)).toEqual(authSecretsOf(readSecurity(out)));
  });

  it('exits 65 on a KEK file that holds no KEK', async () => {
    writeFileSync(join(root, 'kek'), 'not a key');
    expect(await main(['nats', 'init', '--out', out, '--kek-file', join(root, 'kek')])).toBe(65);
    expect(stderr.mock.calls.join('')).toMatch(/--kek-file .*kek: SB_KEK_FILE: expected 32 random bytes/);
  });

  it('exits 64 on usage errors', async () => {
    expect(await main(['nats', 'init'])).toBe(64);
    expect(await main(['nats', 'init', '--out'])).toBe(64);
    expect(await main(['nats', 'init', '--out', out, '--prefix', 'Bad-Prefix'])).toBe(64);
    expect(await main(['nats', 'init', '--out', out, '--bogus'])).toBe(64);
    expect(await main(['nats', 'init', '--out', out, 'extra'])).toBe(64);
    expect(await main(['nats'])).toBe(64);
    expect(await main(['nats', 'create'])).toBe(64);
    expect(stderr.mock.calls.join('')).toContain('usage: sb nats init --out <dir>');
    expect(readdirSync(root)).toEqual([]);
  });
});
