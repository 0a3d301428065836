/**
 * What tenancy's usage accounting reads of the final task events (`Consumers.usage` in events.ts:
 * a durable consumer of its own on the task-events stream, so usage survives restarts of tenancy
 * or Redis; replicas share the durable).
 */
import { z } from 'zod';
import { CapabilitySchema, TaskIdSchema, TenantIdSchema } from './schemas';

/**
 * The part of a final task event (`<prefix>.v1.tasks.events.<tenantId>.<taskId>.<status>`) usage
 * accounting reads. `tokens` is filled by the worker from the agent's result (`result.usage.tokens`).
 */
export const UsageTaskEventSchema = z.object({
  taskId: TaskIdSchema,
  tenantId: TenantIdSchema,
  capability: CapabilitySchema,
  at: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  tokens: z.number().int().min(0).optional(),
});
export type UsageTaskEvent = z.infer<typeof UsageTaskEventSchema>;
