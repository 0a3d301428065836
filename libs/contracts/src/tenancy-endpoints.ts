/** Tenancy's request/reply endpoints beyond the base set in endpoints.ts. */
import type { z } from 'zod';
import type { Endpoint } from './endpoints';
import type { Names } from './subjects';
import type { Tenant } from './schemas';
import * as T from './tenancy-schemas';

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const TenancyEndpoints = {
  /** The admission decision plus the limits to enforce; refuses inactive or unknown tenants. */
  policy: ep<typeof T.TenantPolicyRequestSchema, T.TenantPolicy>((n) => n.internal.tenancyPolicy, T.TenantPolicyRequestSchema),
  patchTenant: ep<typeof T.PatchTenantRequestSchema, Tenant & T.TenancyTenant>((n) => n.internal.tenantsPatch, T.PatchTenantRequestSchema),
  /** Concurrent-task slots (leases); fails closed (503) when they cannot be counted. */
  slots: ep<typeof T.SlotRequestSchema, T.SlotReply>((n) => n.internal.tenancySlots, T.SlotRequestSchema),
  usage: ep<typeof T.UsageRequestSchema, T.UsageReport>((n) => n.internal.tenantsUsage, T.UsageRequestSchema),
} as const;
