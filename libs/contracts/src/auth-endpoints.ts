/** Auth endpoints beyond `Endpoints` (rotation, tokens, JWKS, invalidations, security report). */
import { type Endpoint } from './endpoints';
import type { Names } from './subjects';
import * as A from './auth-schemas';
import * as N from './nats-credentials-schemas';

export * from './auth-schemas';

const ep = <Req extends import('zod').ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const AuthEndpoints = {
  rotateKey: ep<typeof A.RotateKeyRequestSchema, A.RotatedKeyRecord>((n) => n.internal.keysRotate, A.RotateKeyRequestSchema),
  issueToken: ep<typeof A.IssueTokenRequestSchema, A.IssuedToken>((n) => n.internal.tokensIssue, A.IssueTokenRequestSchema),
  jwks: ep<typeof A.EmptyRequestSchema, A.Jwks>((n) => n.internal.jwks, A.EmptyRequestSchema),
  invalidatedKeys: ep<typeof A.EmptyRequestSchema, A.KeyInvalidationList>((n) => n.internal.keysInvalidated, A.EmptyRequestSchema),
  securityReport: ep<typeof A.SecurityReportQuerySchema, A.SecurityReport>((n) => n.internal.securityReport, A.SecurityReportQuerySchema),
  natsCredentials: ep<typeof N.NatsCredentialsRequestSchema, N.NatsCredentials>((n) => n.internal.natsCredentials, N.NatsCredentialsRequestSchema),
  natsAccount: ep<typeof N.NatsAccountRequestSchema, N.NatsAccountOwner>((n) => n.internal.natsAccount, N.NatsAccountRequestSchema),
} as const;
