/**
 * `POST /v1/nats/credentials`: a `.creds` file (user JWT + nkey seed, expiring) for a plain NATS
 * client: `nats --creds`, nats.js `credsAuthenticator`, Go's `nats.UserCredentials`... The body
 * names the role: a tenant's client (the default; the caller's tenant and task scopes), an agent
 * or an ops subscriber (platform admin keys). The client must use the inbox prefix in
 * `Sb-Inbox-Prefix`: its replies may arrive only there. `Accept: application/json` answers the
 * same as JSON. Revoking the API key revokes the credential on every server.
 */
import { Body, Controller, Headers, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { AuthEndpoints, NatsCredentialsBodySchema, type Principal } from '@sb/contracts';
import { Bus, validate } from '@sb/messaging';
import { ANY_KEY, RequireScope } from '../auth/auth.guard';
import { CurrentPrincipal } from '../auth/request-state';

interface Reply {
  header(name: string, value: string): unknown;
  type(t: string): unknown;
}

@Controller()
export class NatsCredentialsHttpController {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  @Post('/v1/nats/credentials')
  @HttpCode(201)
  @RequireScope(...ANY_KEY)
  async issue(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) res: Reply) {
    const b = validate(NatsCredentialsBodySchema, body === undefined ? {} : body);
    const issued = await this.bus.request(AuthEndpoints.natsCredentials, { ...b, keyId: p.keyId, tenantId: p.tenantId, scopes: p.scopes, keyExpiresAt: p.expiresAt ?? null });
    res.header('Cache-Control', 'no-store');
    res.header('Sb-Inbox-Prefix', issued.inboxPrefix);
    res.header('Sb-Nats-Expires-At', issued.expiresAt);
    if (accept?.includes('application/json')) return issued;
    res.type('text/plain; charset=utf-8');
    return issued.creds;
  }
}
