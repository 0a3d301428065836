/**
 * Pushes account JWTs to the NATS servers over the system account (`$SYS.REQ.CLAIMS.UPDATE`):
 * with the `full` resolver every server of the cluster stores and applies the update, and
 * drops connections of users the update revokes.
 */
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { UnavailableError } from '@sb/contracts';

const enc = new TextEncoder();

export interface ClaimsPusher {
  push(accountJwt: string): Promise<void>;
}

interface ClaimsReply {
  data?: { code?: number; message?: string };
  error?: { code?: number; description?: string };
}

export class NatsClaimsPusher implements ClaimsPusher {
  private constructor(private readonly nc: NatsConnection, private readonly timeoutMs: number) {}

  static async connect(servers: string, sysCreds: string, timeoutMs: number): Promise<NatsClaimsPusher> {
    const nc = await connect({
      servers: servers.split(',').map((s) => s.trim()),
      name: 'auth-claims',
      authenticator: credsAuthenticator(enc.encode(sysCreds)),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      noAsyncTraces: true,
    });
    return new NatsClaimsPusher(nc, timeoutMs);
  }

  async push(accountJwt: string): Promise<void> {
    let reply: ClaimsReply;
    try {
      const m = await this.nc.request('$SYS.REQ.CLAIMS.UPDATE', enc.encode(accountJwt), { timeout: this.timeoutMs });
      reply = m.json<ClaimsReply>();
    } catch (err) {
      throw new UnavailableError('The NATS servers did not take the account update', { cause: err, retryAfter: 1 });
    }
    if (reply.error || reply.data?.code !== 200) {
      throw new UnavailableError(`The NATS servers refused the account update: ${reply.error?.description ?? reply.data?.message ?? 'no reason given'}`);
    }
  }

  /** Calls `fn` whenever the connection to the servers was re-established (a server restarted, or a new one answers). */
  onReconnect(fn: () => void): void {
    void (async () => {
      for await (const st of this.nc.status()) if (st.type === 'reconnect') fn();
    })();
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }
}
