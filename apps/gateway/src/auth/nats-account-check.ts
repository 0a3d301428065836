/**
 * A request that reached the gateway through another NATS account (a tenant's client, through
 * the platform's service import) carries the requester's account in `Nats-Request-Info`, set
 * by the server (a client cannot forge it: the server replaces it). Its tenant must be the
 * credential's tenant: a tenant's NATS user with another tenant's API key is refused.
 * Requests from inside the platform account carry no such header.
 */
import { Inject, Injectable } from '@nestjs/common';
import { AuthEndpoints, ForbiddenError, type Principal } from '@sb/contracts';
import { Bus } from '@sb/messaging';

export const REQUEST_INFO_HEADER = 'Nats-Request-Info';

/** The requester's account, from the server's request info; undefined when there is none. */
export function requesterAccount(info: string | undefined): string | undefined {
  if (!info) return undefined;
  try {
    const acc = (JSON.parse(info) as { acc?: unknown }).acc;
    return typeof acc === 'string' ? acc : '';
  } catch {
    return '';
  }
}

@Injectable()
export class NatsAccountCheck {
  /** Account → tenant (or null: not a tenant's account). An account's tenant never changes. */
  private readonly owners = new Map<string, Promise<string | null>>();
  private static readonly MAX = 10_000;

  constructor(@Inject(Bus) private readonly bus: Bus) {}

  async check(info: string | undefined, principal: Principal): Promise<void> {
    const account = requesterAccount(info);
    if (account === undefined) return;
    const owner = account ? await this.ownerOf(account) : null;
    if (owner !== principal.tenantId) throw new ForbiddenError("The credential's tenant does not own this NATS connection's account");
  }

  private ownerOf(account: string): Promise<string | null> {
    let p = this.owners.get(account);
    if (!p) {
      if (this.owners.size >= NatsAccountCheck.MAX) this.owners.clear();
      p = this.bus.request(AuthEndpoints.natsAccount, { account }).then((r) => r.tenantId);
      this.owners.set(account, p);
      // A failed lookup is not remembered.
      p.catch(() => this.owners.delete(account));
    }
    return p;
  }
}
