/** NATS adapter: serves the auth endpoints. No logic here. */
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthEndpoints, Endpoints } from '@sb/contracts';
import { Bus } from '@sb/messaging';
import { AuthorizeHandler } from './authorize/authorize.handler';
import { IssueKeyHandler } from './keys/issue-key.handler';
import { InvalidatedKeysHandler, ListKeysHandler, RevokeKeyHandler } from './keys/revoke-key.handler';
import { RotateKeyHandler } from './keys/rotate-key.handler';
import { buildSecurityReport } from './security/security-report';
import { SecurityEventsReader } from './security/security-events.reader';
import { IssueTokenHandler } from './tokens/issue-token.handler';
import { SigningKeyRing } from './tokens/signing-keys';

@Injectable()
export class AuthNatsAdapter implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    @Inject(AuthorizeHandler) private readonly authorize: AuthorizeHandler,
    @Inject(IssueKeyHandler) private readonly issue: IssueKeyHandler,
    @Inject(ListKeysHandler) private readonly list: ListKeysHandler,
    @Inject(RevokeKeyHandler) private readonly revoke: RevokeKeyHandler,
    @Inject(RotateKeyHandler) private readonly rotate: RotateKeyHandler,
    @Inject(InvalidatedKeysHandler) private readonly invalidated: InvalidatedKeysHandler,
    @Inject(IssueTokenHandler) private readonly tokens: IssueTokenHandler,
    @Inject(SigningKeyRing) private readonly ring: SigningKeyRing,
    @Inject(SecurityEventsReader) private readonly events: SecurityEventsReader,
  ) {}

  onApplicationBootstrap(): void {
    this.bus.serve(Endpoints.authorize, (req) => this.authorize.handle(req));
    this.bus.serve(Endpoints.createKey, (req) => this.issue.handle(req));
    this.bus.serve(Endpoints.listKeys, (req) => this.list.handle(req.tenantId));
    this.bus.serve(Endpoints.revokeKey, (req) => this.revoke.handle(req.id));
    this.bus.serve(AuthEndpoints.rotateKey, (req) => this.rotate.handle(req));
    this.bus.serve(AuthEndpoints.invalidatedKeys, () => this.invalidated.handle());
    this.bus.serve(AuthEndpoints.issueToken, (req) => this.tokens.handle(req));
    this.bus.serve(AuthEndpoints.jwks, async () => this.ring.jwks());
    this.bus.serve(AuthEndpoints.securityReport, async (req) => {
      const to = new Date();
      const from = new Date(to.getTime() - req.hours * 3600_000);
      return buildSecurityReport(await this.events.read(from), from, to);
    });
  }
}
