import { randomBytes } from 'node:crypto';
import { ConfigError } from '@sb/config';
import { isSealedBox, kekFromBytes, loadKek, open, seal, SealedBoxError, SecretSealer } from './sealed-box';

const kek = kekFromBytes(randomBytes(32));
const other = kekFromBytes(randomBytes(32));

describe('sealed boxes', () => {
  it('seal and open, with a fresh nonce each time, naming the KEK but never holding it', () => {
    const a = seal(kek, 'the private key', 'sb/test/k1');
    const b = seal(kek, 'the private key', 'sb/test/k1');
    expect(a).toEqual({ v: 1, kek: kek.id, iv: expect.any(String), ct: expect.any(String), tag: expect.any(String) });
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    expect(isSealedBox(a)).toBe(true);
    expect(open(kek, a, 'sb/test/k1').toString()).toBe('the private key');
    expect(open([other, kek], a, 'sb/test/k1').toString()).toBe('the private key');
    expect(JSON.stringify(a)).not.toContain('the private key');
    expect(JSON.stringify({ kek })).toBe(JSON.stringify({ kek: { id: kek.id } }));
  });

  it('refuses a box moved to another record, altered, or sealed with another KEK', () => {
    const box = seal(kek, 'secret', 'sb/test/k1');
    expect(() => open(kek, box, 'sb/test/k2')).toThrow(SealedBoxError);
    const flipped = Buffer.from(box.ct, 'base64');
    flipped[0] ^= 1;
    expect(() => open(kek, { ...box, ct: flipped.toString('base64') }, 'sb/test/k1')).toThrow(SealedBoxError);
    expect(() => open(other, box, 'sb/test/k1')).toThrow(new RegExp(`sealed with KEK ${kek.id}`));
  });

  it('keeps secrets unsealed without a KEK, and says a sealer with one should rewrite them', () => {
    const plain = new SecretSealer(undefined).wrap('pepper', 'sb/test/p');
    expect(plain).toEqual({ v: 0, plain: Buffer.from('pepper').toString('base64') });
    const sealer = new SecretSealer(kek);
    expect(sealer.isCurrent(plain)).toBe(false);
    expect(sealer.unwrap(plain, 'sb/test/p').toString()).toBe('pepper');
    const sealed = sealer.wrap('pepper', 'sb/test/p');
    expect(sealer.isCurrent(sealed)).toBe(true);
    expect(sealer.unwrap(sealed, 'sb/test/p').toString()).toBe('pepper');
    expect(() => new SecretSealer(undefined).unwrap(sealed, 'sb/test/p')).toThrow(/no KEK is configured/);
  });
});

describe('loadKek', () => {
  const bytes = randomBytes(32);
  const files: Record<string, Buffer> = { '/kek.b64': Buffer.from(`${bytes.toString('base64')}\n`), '/kek.raw': bytes, '/short': Buffer.from('c2hvcnQ=') };
  const read = (path: string) => {
    if (!files[path]) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return files[path];
  };
  const problem = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('no ConfigError');
  };

  it('reads SB_KEK, or SB_KEK_FILE holding base64 or the raw bytes; the same key gets the same id', () => {
    expect(loadKek({})).toBeUndefined();
    const id = kekFromBytes(bytes).id;
    expect(loadKek({ SB_KEK: bytes.toString('base64') })?.id).toBe(id);
    expect(loadKek({ SB_KEK_FILE: '/kek.b64' }, read)?.id).toBe(id);
    expect(loadKek({ SB_KEK_FILE: '/kek.raw' }, read)?.id).toBe(id);
  });

  it('names the variable of a bad setting', () => {
    expect(problem(() => loadKek({ SB_KEK: 'c2hvcnQ=' }))).toContain('SB_KEK: expected 32 random bytes');
    expect(problem(() => loadKek({ SB_KEK_FILE: '/short' }, read))).toContain('SB_KEK_FILE: expected 32 random bytes');
    expect(problem(() => loadKek({ SB_KEK_FILE: '/missing' }, read))).toContain('SB_KEK_FILE: cannot read /missing (ENOENT)');
    expect(problem(() => loadKek({ SB_KEK: bytes.toString('base64'), SB_KEK_FILE: '/kek.b64' }, read))).toContain('not both');
  });
});
