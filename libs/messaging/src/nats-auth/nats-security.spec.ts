import { PLATFORM_SERVICES } from '@sb/contracts';
import { createNatsSecurity } from './nats-security';
import { serviceCreds } from './service-creds';

describe('service credentials', () => {
  // A client sends its JWT in CONNECT, which must fit nats-server's default max_control_line (4 KiB):
  // a longer one is refused and the client only sees a connect timeout.
  it.each(PLATFORM_SERVICES)("%s's user JWT fits a CONNECT line of nats-server's default limit", async (service) => {
    const s = createNatsSecurity();
    const { jwt } = await serviceCreds(s, 'sbprefix1234567', service);
    expect(jwt.length).toBeLessThan(3_500);
  });
});

describe('keyPair (native Ed25519 signing)', () => {
  it('signs exactly as nkeys.js does, with the same public key', async () => {
    const { createAccount } = await import('@nats-io/nkeys');
    const { keyPair } = await import('./nats-security');
    const js = createAccount();
    const native = keyPair(new TextDecoder().decode(js.getSeed()));
    const data = new TextEncoder().encode('a claim to sign');
    expect(native.getPublicKey()).toBe(js.getPublicKey());
    expect(Buffer.from(native.sign(data)).equals(Buffer.from(js.sign(data)))).toBe(true);
    expect(js.verify(data, native.sign(data))).toBe(true);
  });
});
