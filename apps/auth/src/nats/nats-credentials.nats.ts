/** NATS adapter: NATS credentials, account owners, and revoking a key's NATS users when the key is revoked. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { AuthEndpoints, Events, type ParsedReqOf } from '@sb/contracts';
import { contract } from '@sb/messaging';
import { type AppLogger, LOGGER } from '@sb/observability';
import { NatsCredentialsService } from './nats-credentials.service';

type Req<E> = ParsedReqOf<E>;

@Controller()
export class NatsCredentialsController {
  constructor(
    @Inject(NatsCredentialsService) private readonly service: NatsCredentialsService,
    @Inject(LOGGER) private readonly logger: AppLogger,
  ) {}

  @MessagePattern(AuthEndpoints.natsCredentials)
  issue(@Payload(contract(AuthEndpoints.natsCredentials)) req: Req<typeof AuthEndpoints.natsCredentials>) {
    return this.service.issue(req);
  }

  @MessagePattern(AuthEndpoints.natsAccount)
  async account(@Payload(contract(AuthEndpoints.natsAccount)) req: Req<typeof AuthEndpoints.natsAccount>) {
    return { tenantId: await this.service.ownerOf(req.account) };
  }

  @EventPattern(Events.keyRevoked)
  async keyRevoked(@Payload() notice: { keyId?: unknown; revokedAt?: unknown }): Promise<void> {
    // Rotation also announces an earlier expiry; only a revocation ends the NATS users.
    if (typeof notice?.keyId !== 'string' || !notice.revokedAt) return;
    try {
      await this.service.revokeKey(notice.keyId);
    } catch (err) {
      this.logger.error({ err, keyId: notice.keyId }, 'revoking the NATS credentials of a revoked key failed');
    }
  }
}
