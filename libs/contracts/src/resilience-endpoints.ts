/** Recovery's internal dead-letter endpoints (the gateway's /v1/dead-letters routes forward here). */
import type { z } from 'zod';
import type { Endpoint } from './endpoints';
import type { Names } from './subjects';
import * as R from './resilience-schemas';

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const ResilienceEndpoints = {
  listDeadLetters: ep<typeof R.DlqListRequestSchema, R.DeadLetterSummary[]>((n) => n.resilience.dlqList, R.DlqListRequestSchema),
  getDeadLetter: ep<typeof R.DlqIdRequestSchema, R.DeadLetterDetail>((n) => n.resilience.dlqGet, R.DlqIdRequestSchema),
  redriveDeadLetter: ep<typeof R.DlqRedriveRequestSchema, R.RedriveReply>((n) => n.resilience.dlqRedrive, R.DlqRedriveRequestSchema),
  /** The same request checked, nothing done. Its own subject: a recovery that does not know it answers nobody, never redrives instead. */
  checkRedrive: ep<typeof R.DlqRedriveRequestSchema, R.RedriveCheck>((n) => n.resilience.dlqRedriveCheck, R.DlqRedriveRequestSchema),
  deleteDeadLetter: ep<typeof R.DlqIdRequestSchema, { id: string; deleted: true }>((n) => n.resilience.dlqDelete, R.DlqIdRequestSchema),
  purgeDeadLetters: ep<typeof R.DlqPurgeRequestSchema, R.PurgeReply>((n) => n.resilience.dlqPurge, R.DlqPurgeRequestSchema),
} as const;
