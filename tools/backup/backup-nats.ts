/**
 * The backup tool's NATS connection and its JetStream API requests. It connects as one user with
 * NATS_URL and NATS_CREDS, parsed once from the environment like a service's config: in operator
 * mode that is the PLATFORM account's `platform-admin` user (`sb nats init` writes
 * platform-admin.creds). A service's least-privilege user cannot do it: snapshot chunks are
 * acknowledged and restore chunks sent on `$JS.SNAPSHOT.>`, which no service may publish to.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { baseConfigShape, ConfigError, type Env, parseConfig } from '@sb/config';
import { credsAuthenticator, errors, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { BackupError } from './backup-error';

export const backupEnvSchema = z.object({
  NATS_URL: baseConfigShape.NATS_URL,
  NATS_CREDS: baseConfigShape.NATS_CREDS,
  SB_PREFIX: baseConfigShape.SB_PREFIX,
});
export type BackupEnv = z.output<typeof backupEnvSchema>;

export function loadBackupEnv(env: Env): BackupEnv {
  try {
    return parseConfig(backupEnvSchema, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new BackupError('BACKUP.INVALID', err.message);
    throw err;
  }
}

const CONNECT_TIMEOUT_MS = 5_000;

export async function connectForBackup(env: BackupEnv, name: string): Promise<NatsConnection> {
  let creds: Uint8Array | undefined;
  if (env.NATS_CREDS) {
    try {
      creds = readFileSync(env.NATS_CREDS);
    } catch (err) {
      throw new BackupError('BACKUP.NATS_PERMISSION', `NATS_CREDS ${env.NATS_CREDS}: ${(err as Error).message}`);
    }
  }
  try {
    return await connect({
      servers: env.NATS_URL.split(',').map((s) => s.trim()),
      name,
      timeout: CONNECT_TIMEOUT_MS,
      // A snapshot or restore in flight does not survive a reconnect: fail, and let the operator run it again.
      reconnect: false,
      ...(creds ? { authenticator: credsAuthenticator(creds) } : {}),
    });
  } catch (err) {
    if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) {
      throw new BackupError('BACKUP.NATS_PERMISSION', `NATS refused the credentials (${err.message}): set NATS_CREDS to the platform-admin user's .creds file`);
    }
    throw new BackupError('BACKUP.NATS_UNAVAILABLE', `cannot connect to NATS at ${env.NATS_URL}: ${(err as Error).message}`);
  }
}

/** JetStream's API error body. */
interface ApiError {
  code: number;
  err_code?: number;
  description?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Maps a NATS error to the tool's own: permissions and silence say what to do about them. */
export function natsFailure(what: string, err: unknown): BackupError {
  if (err instanceof BackupError) return err;
  const e = err as Error;
  const cause = (e as { cause?: unknown }).cause;
  if (e instanceof errors.PermissionViolationError || cause instanceof errors.PermissionViolationError) {
    const pv = (e instanceof errors.PermissionViolationError ? e : cause) as InstanceType<typeof errors.PermissionViolationError>;
    return new BackupError(
      'BACKUP.NATS_PERMISSION',
      `${what}: this NATS user may not ${pv.operation === 'publish' ? 'publish to' : 'subscribe to'} ${pv.subject}: ` +
        "use the PLATFORM account's platform-admin credentials (platform-admin.creds from `sb nats init`), not a service's",
      { cause: err },
    );
  }
  if ((e instanceof errors.RequestError && e.isNoResponders()) || cause instanceof errors.NoRespondersError) {
    return new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: nothing answered: JetStream is not enabled for this NATS user's account`, { cause: err });
  }
  if (e instanceof errors.TimeoutError || cause instanceof errors.TimeoutError) {
    return new BackupError('BACKUP.NATS_UNAVAILABLE', `${what}: NATS did not answer in time`, { cause: err });
  }
  return new BackupError('BACKUP.NATS_UNAVAILABLE', `${what}: ${e.message}`, { cause: err });
}

/** One JetStream API request with a JSON body; its `error` becomes a BackupError naming the subject. */
export async function jsApi<T>(nc: NatsConnection, subject: string, body: unknown, timeoutMs: number): Promise<T> {
  let data: Uint8Array;
  try {
    data = (await nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: timeoutMs })).data;
  } catch (err) {
    throw natsFailure(subject, err);
  }
  const reply = parseJson(data, subject) as T & { error?: ApiError };
  if (reply.error) throw new BackupError('BACKUP.JETSTREAM_ERROR', `${subject}: ${reply.error.description ?? 'error'} (${reply.error.err_code ?? reply.error.code})`);
  return reply;
}

export function parseJson(data: Uint8Array, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(dec.decode(data)) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new BackupError('BACKUP.JETSTREAM_ERROR', `${what}: the server's reply is not a JSON object: ${dec.decode(data.subarray(0, 200))}`);
}

/** Every stream name of the connection's account (`$JS.API.STREAM.NAMES`, paged). */
export async function listStreams(nc: NatsConnection, timeoutMs: number): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const page = await jsApi<{ streams: string[] | null; total: number; limit: number }>(nc, '$JS.API.STREAM.NAMES', { offset: out.length }, timeoutMs);
    const got = page.streams ?? [];
    out.push(...got);
    if (got.length === 0 || out.length >= page.total) return out;
  }
}

/**
 * A denied publish (a snapshot chunk's acknowledgement, say) is reported by the server
 * asynchronously, not to the call that made it. This remembers the first one; `assertPermitted`
 * round-trips to the server (which answers after any error for what was sent before) and throws it.
 */
export function watchPermissions(nc: NatsConnection): { assertPermitted(what: string): Promise<void> } {
  let denied: Error | undefined;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof errors.PermissionViolationError) denied ??= s.error;
    }
  })().catch(() => undefined);
  return {
    async assertPermitted(what: string) {
      await nc.flush().catch((err: unknown) => {
        throw natsFailure(what, err);
      });
      if (denied) throw natsFailure(what, denied);
    },
  };
}
