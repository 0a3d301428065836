/** NATS adapter: serves the auth endpoints. No logic here. */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Endpoints } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { AuthorizeHandler } from './authorize/authorize.handler';
import { IssueKeyHandler } from './keys/issue-key.handler';
import { ListKeysHandler, RevokeKeyHandler } from './keys/revoke-key.handler';

@Injectable()
export class AuthNatsAdapter implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(AuthorizeHandler) private readonly authorize: AuthorizeHandler,
    @Inject(IssueKeyHandler) private readonly issue: IssueKeyHandler,
    @Inject(ListKeysHandler) private readonly list: ListKeysHandler,
    @Inject(RevokeKeyHandler) private readonly revoke: RevokeKeyHandler,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.serve(Endpoints.authorize, (req) => this.authorize.handle(req));
    this.bus.serve(Endpoints.createKey, (req) => this.issue.handle(req));
    this.bus.serve(Endpoints.listKeys, (req) => this.list.handle(req.tenantId));
    this.bus.serve(Endpoints.revokeKey, (req) => this.revoke.handle(req.id));
  }
}
