/** `GET /v1/tasks/events`: a live Server-Sent Events stream of task status changes. */
import { z } from 'zod';
import { CapabilitySchema, TenantIdSchema } from './schemas';
import { TASK_STATUSES } from './subjects';

const statusList = z
  .string()
  .max(512)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(TASK_STATUSES)).min(1).max(TASK_STATUSES.length));

export const TaskEventsQuerySchema = z
  .object({
    /** Comma-separated statuses to keep (default: all). */
    status: statusList.optional(),
    capability: CapabilitySchema.optional(),
    /** Admin only: one tenant's events (default for admins: every tenant's). */
    tenantId: TenantIdSchema.optional(),
    /** Only this task's events. */
    taskId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'taskId must be 1-64 characters of A-Z a-z 0-9 _ -').optional(),
  })
  .strict();
export type TaskEventsQuery = z.infer<typeof TaskEventsQuerySchema>;
