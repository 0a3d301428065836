/** NATS adapter: the auth endpoints, declared for the bus transport. No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthEndpoints, Endpoints, type ParsedReqOf } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { AuthorizeHandler } from './authorize/authorize.handler';
import { IssueKeyHandler } from './keys/issue-key.handler';
import { InvalidatedKeysHandler, ListKeysHandler, RevokeKeyHandler } from './keys/revoke-key.handler';
import { RotateKeyHandler } from './keys/rotate-key.handler';
import { buildSecurityReport } from './security/security-report';
import { SecurityEventsReader } from './security/security-events.reader';
import { IssueTokenHandler } from './tokens/issue-token.handler';
import { SigningKeyRing } from './tokens/signing-keys';

type Req<E> = ParsedReqOf<E>;

@Controller()
export class AuthNatsController {
  constructor(
    @Inject(AuthorizeHandler) private readonly authorizer: AuthorizeHandler,
    @Inject(IssueKeyHandler) private readonly issue: IssueKeyHandler,
    @Inject(ListKeysHandler) private readonly list: ListKeysHandler,
    @Inject(RevokeKeyHandler) private readonly revoke: RevokeKeyHandler,
    @Inject(RotateKeyHandler) private readonly rotate: RotateKeyHandler,
    @Inject(InvalidatedKeysHandler) private readonly invalidated: InvalidatedKeysHandler,
    @Inject(IssueTokenHandler) private readonly tokens: IssueTokenHandler,
    @Inject(SigningKeyRing) private readonly ring: SigningKeyRing,
    @Inject(SecurityEventsReader) private readonly events: SecurityEventsReader,
  ) {}

  @MessagePattern(Endpoints.authorize)
  authorize(@Payload(contract(Endpoints.authorize)) req: Req<typeof Endpoints.authorize>) {
    return this.authorizer.handle(req);
  }

  @MessagePattern(Endpoints.createKey)
  createKey(@Payload(contract(Endpoints.createKey)) req: Req<typeof Endpoints.createKey>) {
    return this.issue.handle(req);
  }

  @MessagePattern(Endpoints.listKeys)
  listKeys(@Payload(contract(Endpoints.listKeys)) req: Req<typeof Endpoints.listKeys>) {
    return this.list.handle(req);
  }

  @MessagePattern(Endpoints.revokeKey)
  revokeKey(@Payload(contract(Endpoints.revokeKey)) req: Req<typeof Endpoints.revokeKey>) {
    return this.revoke.handle(req);
  }

  @MessagePattern(AuthEndpoints.rotateKey)
  rotateKey(@Payload(contract(AuthEndpoints.rotateKey)) req: Req<typeof AuthEndpoints.rotateKey>) {
    return this.rotate.handle(req);
  }

  @MessagePattern(AuthEndpoints.invalidatedKeys)
  invalidatedKeys() {
    return this.invalidated.handle();
  }

  @MessagePattern(AuthEndpoints.issueToken)
  issueToken(@Payload(contract(AuthEndpoints.issueToken)) req: Req<typeof AuthEndpoints.issueToken>) {
    return this.tokens.handle(req);
  }

  @MessagePattern(AuthEndpoints.jwks)
  jwks() {
    return this.ring.jwks();
  }

  @MessagePattern(AuthEndpoints.securityReport)
  async securityReport(@Payload(contract(AuthEndpoints.securityReport)) req: Req<typeof AuthEndpoints.securityReport>) {
    const to = new Date();
    const from = new Date(to.getTime() - req.hours * 3600_000);
    return buildSecurityReport(await this.events.read(from), from, to);
  }
}
