/**
 * The rules a fresh installation starts with. Created once, create-only, behind a marker key:
 * replicas booting together cannot duplicate them, and an operator's edit or delete is never
 * undone by a later boot.
 */
import { type AlertRuleInput, AlertRuleInputSchema, FleetMetrics } from '@sb/contracts';

const raw: Array<{ id: string; rule: unknown }> = [
  {
    id: 'default-agent-down',
    rule: {
      type: 'agent_down', name: 'AgentDown', severity: 'critical',
      annotations: { summary: 'Agent {{ $labels.agent }} on {{ $labels.host }} stopped heartbeating' },
      // One group for the rule: agents are often one per host (pods), and a mass failure must be
      // a page, not a page per agent. HostDown (per host) still says which hosts went entirely.
      route: { groupBy: ['alertname'], groupWaitMs: 5_000 },
    },
  },
  {
    id: 'default-task-error-ratio-warning',
    rule: {
      type: 'threshold', name: 'TaskErrorRatioHigh', severity: 'warning', forMs: 60_000,
      selector: { metric: FleetMetrics.fleetErrorRatio }, op: '>', value: 0.1,
      annotations: { summary: '{{ $labels.capability }}: {{ $value }} of tasks failing' },
    },
  },
  {
    id: 'default-task-error-ratio-critical',
    rule: {
      type: 'threshold', name: 'TaskErrorRatioHigh', severity: 'critical', forMs: 60_000,
      selector: { metric: FleetMetrics.fleetErrorRatio }, op: '>', value: 0.5,
      annotations: { summary: '{{ $labels.capability }}: {{ $value }} of tasks failing' },
    },
  },
  {
    id: 'default-task-latency-p95',
    rule: {
      type: 'threshold', name: 'TaskLatencyP95High', severity: 'warning', forMs: 5 * 60_000,
      selector: { metric: FleetMetrics.fleetTaskP95 }, op: '>', value: 30,
      annotations: { summary: '{{ $labels.capability }}: p95 task duration {{ $value }}s' },
    },
  },
  {
    id: 'default-queue-backlog-growing',
    rule: {
      type: 'rate_of_change', name: 'QueueBacklogGrowing', severity: 'warning', forMs: 5 * 60_000,
      selector: { metric: FleetMetrics.fleetQueuePending }, windowMs: 5 * 60_000, op: '>', value: 0,
      annotations: { summary: '{{ $labels.capability }}/{{ $labels.priority }} backlog growing by {{ $value }} tasks/s' },
    },
  },
  {
    id: 'default-dead-letters',
    rule: {
      type: 'threshold', name: 'DeadLettersPresent', severity: 'warning',
      selector: { metric: FleetMetrics.fleetDeadLetters }, op: '>', value: 0,
      annotations: { summary: '{{ $value }} dead-lettered {{ $labels.capability }} tasks' },
    },
  },
  {
    id: 'default-agent-flapping',
    rule: {
      type: 'threshold', name: 'AgentHeartbeatFlapping', severity: 'warning',
      selector: { metric: FleetMetrics.fleetAgentFlaps }, op: '>=', value: 4,
      annotations: { summary: 'Agent {{ $labels.agent }} went up/down {{ $value }} times in 10 minutes' },
    },
  },
];

/** Parsed through the same schema as any operator's rule (a bad default fails the unit test, not production). */
export const DEFAULT_RULES: Array<{ id: string; rule: AlertRuleInput }> = raw.map((r) => ({ id: r.id, rule: AlertRuleInputSchema.parse(r.rule) }));
export const DEFAULT_RULES_MARKER = '_meta.default-rules-v1';
