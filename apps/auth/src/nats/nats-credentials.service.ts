/**
 * NATS credentials for the parties outside the platform (nats-access.ts): a tenant's client in
 * the tenant's own account (made on first use and pushed to every server), an agent or an ops
 * subscriber in the fixed AGENTS/OPS accounts. Every user is recorded under the API key that
 * asked for it; revoking the key puts those users on their account's revocation list and pushes
 * the re-signed account to the servers, which drop their connections at once.
 */
import {
  agentPermissions,
  ForbiddenError,
  inboxPrefixOf,
  names,
  type NatsCredentials,
  type NatsCredentialsRequest,
  NATS_CREDS_DEFAULT_TTL_S,
  type Names,
  type NatsPermissions,
  effectiveScopes,
  scopeGrants,
  subscriberPermissions,
  tenantAccountName,
  tenantPermissions,
  ValidationError,
} from '@sb/contracts';
import {
  agentsAccountJwt,
  keyPair,
  mintUser,
  type NatsAuthSecrets,
  newAccountPublicKey,
  newUserKeyPair,
  opsAccountJwt,
  type Revocations,
  tenantAccountJwt,
} from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { isPlatformAdmin } from '../keys/key-policy';
import type { ClaimsPusher } from './claims-pusher';
import type { FixedAccount, NatsAccountStore, RevocationEntry, TenantAccountRecord } from './nats-account-store';

export interface NatsCredentialsSettings {
  prefix: string;
  tenantLimits: { connections: number; subscriptions: number };
}

const nowS = () => Math.floor(Date.now() / 1000);
/** Live revocations only: an entry whose credential expired anyway is dropped (the list stays short). */
const live = (r: Record<string, RevocationEntry>, now: number): Record<string, RevocationEntry> =>
  Object.fromEntries(Object.entries(r).filter(([, e]) => e.exp > now));
const asRevocations = (r: Record<string, RevocationEntry>): Revocations => Object.fromEntries(Object.entries(r).map(([k, e]) => [k, e.at]));


export class NatsCredentialsService {
  private readonly n: Names;

  constructor(
    private readonly secrets: NatsAuthSecrets,
    private readonly store: NatsAccountStore,
    private readonly pusher: ClaimsPusher,
    private readonly settings: NatsCredentialsSettings,
    private readonly logger: AppLogger,
  ) {
    this.n = names(settings.prefix);
  }

  async issue(req: NatsCredentialsRequest): Promise<NatsCredentials> {
    const now = nowS();
    const keyExp = req.keyExpiresAt ? Math.floor(Date.parse(req.keyExpiresAt) / 1000) : Infinity;
    if (keyExp <= now) throw new ForbiddenError('The API key has expired');
    const exp = Math.min(now + (req.ttlSeconds ?? NATS_CREDS_DEFAULT_TTL_S), keyExp);
    // The user key is made first: its public key names the private inbox its permissions allow.
    const user = newUserKeyPair();
    const inbox = inboxPrefixOf(user.getPublicKey());
    const tags = [`role:${req.role}`, `tenant:${req.tenantId}`, `key:${req.keyId}`];

    let signer: string;
    let account: string;
    let issuerAccount: string | undefined;
    let permissions: NatsPermissions;
    if (req.role === 'tenant') {
      // The key's task permissions as every edge reads them (operator scopes count in the system tenant only).
      const scopes = effectiveScopes(req.tenantId, req.scopes);
      const granted = (['tasks:submit', 'tasks:read'] as const).filter((p) => scopeGrants(scopes, p));
      if (granted.length === 0) throw new ForbiddenError('A tenant credential needs a key with tasks:submit or tasks:read');
      const acct = await this.tenantAccount(req.tenantId);
      signer = this.secrets.tenantSigning;
      issuerAccount = acct.account;
      account = `t:${req.tenantId}`;
      permissions = tenantPermissions(this.n, req.tenantId, granted, inbox);
    } else {
      // Operator-level roles (an agent, an ops subscriber): only the platform's admin keys may mint them.
      if (!isPlatformAdmin(req)) throw new ForbiddenError(`A ${req.role} credential needs a platform admin key`);
      if (req.role === 'agent') {
        signer = this.secrets.agents;
        account = 'agents';
        permissions = agentPermissions(this.n, req.agentId ?? '*', inbox);
        if (req.agentId) tags.push(`agent:${req.agentId}`);
        if (req.pool) tags.push(`pool:${req.pool}`);
      } else {
        signer = this.secrets.ops;
        account = 'ops';
        permissions = subscriberPermissions(this.n);
      }
    }
    const minted = await mintUser(signer, { name: `${req.role}:${req.tenantId}:${req.keyId}`, permissions, expiresAt: exp, tags, issuerAccount }, user);
    await this.store.recordUser(req.keyId, { user: minted.userPublic, account, exp }, now);
    return { creds: minted.creds, inboxPrefix: inbox, expiresAt: new Date(exp * 1000).toISOString(), userPublicKey: minted.userPublic, role: req.role };
  }

  /** The tenant a NATS account belongs to (null: not one of ours). */
  async ownerOf(account: string): Promise<string | null> {
    return (await this.store.ownerOf(account)) ?? null;
  }

  /** The key was revoked: every NATS user minted for it is revoked on its account, on every server. */
  async revokeKey(keyId: string): Promise<number> {
    const users = await this.store.usersOf(keyId);
    const now = nowS();
    const byAccount = new Map<string, { user: string; exp: number }[]>();
    for (const u of users) {
      if (u.exp <= now) continue;
      const list = byAccount.get(u.account) ?? [];
      list.push({ user: u.user, exp: u.exp });
      byAccount.set(u.account, list);
    }
    // Every account at once: each push drops its users' connections on every server.
    await Promise.all([...byAccount].map(async ([account, list]) => {
      const entries = Object.fromEntries(list.map((u) => [u.user, { at: now, exp: u.exp }]));
      if (account.startsWith('t:')) await this.revokeOnTenant(account.slice(2), entries);
      else await this.revokeOnFixed(account as FixedAccount, entries);
    }));
    if (users.length) await this.store.forgetUsers(keyId);
    if (users.length) this.logger.info({ keyId, users: users.length }, 'NATS credentials of a revoked key revoked');
    return users.length;
  }

  /** At boot: every server knows every tenant account and the current revocations (a restored or new server too). */
  async pushAll(): Promise<void> {
    for (const name of ['agents', 'ops'] as const) {
      const f = await this.store.fixed(name);
      await this.pusher.push(await this.fixedJwt(name, live(f?.value.revocations ?? {}, nowS())));
    }
    for (const t of await this.store.tenants()) await this.pusher.push(await this.tenantJwt(t, live(t.revocations, nowS())));
  }

  private async tenantAccount(tenantId: string): Promise<TenantAccountRecord> {
    for (;;) {
      const existing = await this.store.tenant(tenantId);
      if (existing) return existing.value;
      const record: TenantAccountRecord = { account: newAccountPublicKey(), name: tenantAccountName(this.settings.prefix, tenantId), tenantId, revocations: {} };
      // Pushed before it is stored: a stored account is always one the servers know.
      await this.pusher.push(await this.tenantJwt(record, {}));
      if (await this.store.createTenant(record)) {
        this.logger.info({ tenantId, account: record.account }, 'NATS account created for tenant');
        return record;
      }
    }
  }

  private async revokeOnTenant(tenantId: string, add: Record<string, RevocationEntry>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.store.tenant(tenantId);
      if (!cur) return;
      const record = { ...cur.value, revocations: { ...live(cur.value.revocations, nowS()), ...add } };
      await this.pusher.push(await this.tenantJwt(record, record.revocations));
      try {
        await this.store.updateTenant(record, cur.revision);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
  }

  private async revokeOnFixed(name: FixedAccount, add: Record<string, RevocationEntry>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.store.fixed(name);
      const revocations = { ...live(cur?.value.revocations ?? {}, nowS()), ...add };
      await this.pusher.push(await this.fixedJwt(name, revocations));
      try {
        await this.store.putFixed(name, { revocations }, cur?.revision ?? 0);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
      }
    }
  }

  private tenantJwt(t: TenantAccountRecord, revocations: Record<string, RevocationEntry>): Promise<string> {
    return tenantAccountJwt(this.secrets, t.account, { name: t.name, prefix: this.settings.prefix, tenantId: t.tenantId, limits: this.settings.tenantLimits }, asRevocations(revocations));
  }
  private fixedJwt(name: FixedAccount, revocations: Record<string, RevocationEntry>): Promise<string> {
    const r = asRevocations(revocations);
    return name === 'agents' ? agentsAccountJwt(this.secrets, r) : opsAccountJwt(this.secrets, r);
  }
}

/** The secrets file is checked at boot: every seed must be a key of the right kind. */
export function checkNatsAuthSecrets(s: NatsAuthSecrets): void {
  for (const k of ['operatorSigning', 'sys', 'agents', 'ops', 'tenantSigning'] as const) {
    try {
      keyPair(s[k]);
    } catch {
      throw new ValidationError(`NATS auth secrets: ${k} is not a valid nkey seed`);
    }
  }
  if (!s.platformPublic?.startsWith('A')) throw new ValidationError('NATS auth secrets: platformPublic is not an account public key');
}
