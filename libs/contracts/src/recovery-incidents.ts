/**
 * Incidents: one record per failure with a timeline of what recovery did about it
 * (detected, tasks reclaimed, restarted, breaker opened, alert linked, resolved).
 * Served by recovery on internal request subjects; the gateway exposes them at
 * `GET /v1/incidents` and `GET /v1/incidents/:id`.
 */
import { z } from 'zod';
import type { Endpoint } from './endpoints';
import type { Names } from './subjects';

export const INCIDENT_KINDS = ['agent_down', 'restart_budget_exhausted', 'reclaim_failed', 'breaker_open', 'degraded', 'other'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Timeline entry types; `detail` carries the specifics (task ids, counts, fingerprints). */
export const INCIDENT_ENTRY_TYPES = ['detected', 'tasks_reclaimed', 'reclaim_fallback', 'restarted', 'restart_refused', 'restart_failed', 'restart_budget_exhausted', 'breaker_opened', 'breaker_closed', 'alert_linked', 'note', 'resolved'] as const;
export type IncidentEntryType = (typeof INCIDENT_ENTRY_TYPES)[number];

export interface IncidentEntry {
  at: string;
  type: IncidentEntryType;
  message: string;
  detail?: Record<string, unknown>;
}

export interface Incident {
  id: string;
  kind: IncidentKind;
  /** What the incident is about, e.g. `agent:<id>` or `capability:<name>`; one open incident per key. */
  key: string;
  status: IncidentStatus;
  summary: string;
  /** Labels alerts are matched on (agent, capability, host). */
  labels: Record<string, string>;
  openedAt: string;
  resolvedAt: string | null;
  /** Fingerprints of the alerts linked to this incident. */
  alerts: string[];
  timeline: IncidentEntry[];
}

export const IncidentListRequestSchema = z
  .object({
    status: z.enum(INCIDENT_STATUSES).optional(),
    since: z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), 'since must be an ISO-8601 time')
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();
export type IncidentListRequest = z.output<typeof IncidentListRequestSchema>;

export const IncidentIdRequestSchema = z.object({ id: z.string().regex(/^inc_[A-Za-z0-9_-]{1,64}$/, 'not an incident id') }).strict();

export interface IncidentList {
  incidents: Incident[];
}

const ep = <Req extends z.ZodType, Res>(subject: (n: Names) => string, request: Req): Endpoint<Req, Res> => ({ subject, request });

export const RecoveryIncidentEndpoints = {
  list: ep<typeof IncidentListRequestSchema, IncidentList>((n) => n.recoveryCore.incidentsList, IncidentListRequestSchema),
  get: ep<typeof IncidentIdRequestSchema, Incident>((n) => n.recoveryCore.incidentsGet, IncidentIdRequestSchema),
} as const;
