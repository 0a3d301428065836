/** NATS adapter: auth's notices to every gateway (key revoked or shortened, signing keys changed). No logic here. */
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Events } from '@sb/contracts';
import { GatewayAuthenticator } from './authenticator.provider';

@Controller()
export class AuthEventsNatsController {
  constructor(@Inject(GatewayAuthenticator) private readonly auth: GatewayAuthenticator) {}

  @EventPattern(Events.keyRevoked)
  keyRevoked(@Payload() notice: unknown): void {
    this.auth.keyRevoked(notice);
  }

  @EventPattern(Events.jwksChanged)
  jwksChanged(@Payload() notice: unknown): void {
    this.auth.jwksChanged(notice);
  }
}
