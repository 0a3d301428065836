/**
 * Credentials of the platform's own users: one per service, with the least privilege
 * servicePermissions declares, and (for tests and operators' tools) a platform user that may
 * reach everything of one prefix.
 */
import { names, type PlatformService, servicePermissions } from '@sb/contracts';
import { type MintedUser, mintUser, type NatsSecurity } from './nats-security';

export function serviceCreds(s: Pick<NatsSecurity, 'platform'>, prefix: string, service: PlatformService): Promise<MintedUser> {
  return mintUser(s.platform, { name: service, permissions: servicePermissions(names(prefix), service) });
}

/** A platform user with no subject limits (the test harness's observer; an operator's `nats` CLI context). */
export function platformAdminCreds(s: Pick<NatsSecurity, 'platform'>, name = 'platform-admin'): Promise<MintedUser> {
  return mintUser(s.platform, { name, permissions: { pub: { allow: ['>'] }, sub: { allow: ['>'] } } });
}

/** The system account's user (auth pushes account updates and revocations with it). */
export function systemUserCreds(s: Pick<NatsSecurity, 'sys'>, name = 'auth'): Promise<MintedUser> {
  return mintUser(s.sys, { name, permissions: { pub: { allow: ['$SYS.REQ.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE', '_INBOX.>'] }, sub: { allow: ['_INBOX.>'] } } });
}
