/**
 * The deployment's NATS signing secrets as auth reads them (SB_NATS_AUTH_FILE): sealed with
 * auth's key-encryption key (a SealedBox, what `npm start`, the test harness and
 * `sb nats init --kek-file` write), so only auth can read them. A plaintext file (NatsAuthSecrets
 * JSON) is accepted for development and refused when NODE_ENV=production.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@sb/config';
import type { NatsAuthSecrets } from '@sb/messaging';
import { isSealedBox, type Kek, open, seal } from '../secrets/sealed-box';

export const NATS_SECRETS_AAD = 'sb/auth/nats-secrets';

export function sealNatsAuthSecrets(kek: Kek, secrets: NatsAuthSecrets): string {
  return JSON.stringify(seal(kek, JSON.stringify(secrets), NATS_SECRETS_AAD));
}

export function readNatsAuthSecretsFile(file: string, kek: Kek | undefined, production: boolean): NatsAuthSecrets {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`SB_NATS_AUTH_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  if (isSealedBox(parsed)) {
    if (!kek) throw new ConfigError(['SB_NATS_AUTH_FILE is sealed: auth needs the key-encryption key it was sealed with (SB_KEK_FILE or SB_KEK)']);
    return JSON.parse(open(kek, parsed, NATS_SECRETS_AAD).toString('utf8')) as NatsAuthSecrets;
  }
  if (production) throw new ConfigError(['SB_NATS_AUTH_FILE holds plaintext NATS signing secrets: seal it with the KEK (`sb nats init --kek-file`) when NODE_ENV=production']);
  return parsed as NatsAuthSecrets;
}
