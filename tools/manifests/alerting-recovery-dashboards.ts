/**
 * The alerts dashboard (Prometheus's own alerts, Switchboard's alert events and notification
 * delivery) and the recovery dashboard (leader, reclaims, circuit breakers, load shedding,
 * restarts). Expressions reference only exported series (see dashboards.builder.ts).
 *
 * Recovery's breaker and shedding gauges are authoritative only on the acting leader, so they
 * are multiplied by `sb_recovery_leader` of the same replica before being read.
 */
import { jobMatcher } from './alert-rules.builder';
import { type Dashboard, dashboard } from './grafana-panels';

const RATE = '$__rate_interval';
const onLeader = (metric: string) => `(${metric} * on (instance) group_left () sb_recovery_leader)`;
const UNDELIVERED = 'outcome=~"failed|gave_up"';

export function alertsDashboard(): Dashboard {
  return dashboard('sb-alerts', 'Switchboard / Alerts', [
    { type: 'stat', width: 8, title: 'Firing alerts', description: 'Prometheus alerts in state firing (ALERTS is kept by Prometheus itself).', unit: 'none', targets: [{ expr: 'count(ALERTS{alertstate="firing"}) or vector(0)', legendFormat: 'firing' }] },
    { type: 'stat', width: 8, title: 'Pending alerts', description: 'Alerts whose condition holds but not yet for long enough.', unit: 'none', targets: [{ expr: 'count(ALERTS{alertstate="pending"}) or vector(0)', legendFormat: 'pending' }] },
    { type: 'stat', width: 8, title: 'Targets down', description: 'Switchboard targets Prometheus cannot scrape.', unit: 'none', targets: [{ expr: `count(up{${jobMatcher()}} == 0) or vector(0)`, legendFormat: 'down' }] },
    { width: 24, title: 'Alerts by name and severity', description: 'What fires in Prometheus, over time.', unit: 'none', targets: [{ expr: 'sum by (alertname, severity) (ALERTS{alertstate="firing"})', legendFormat: '{{alertname}} ({{severity}})' }] },
    // ---- Switchboard's own alerting (alerting service /metrics) ----
    { type: 'stat', width: 8, title: 'Switchboard alerts fired (1h)', description: 'Firing events Switchboard published on sb.v1.alerts.<severity>.firing in the last hour.', unit: 'none', targets: [{ expr: 'sum(increase(sb_alerting_outputs_total{what="event", kind="firing"}[1h])) or vector(0)', legendFormat: 'firing' }] },
    { type: 'stat', width: 8, title: 'Notifications delivered (1h)', description: 'Delivery attempts the receivers accepted.', unit: 'none', targets: [{ expr: 'sum(increase(sb_notifications_total{outcome="delivered"}[1h])) or vector(0)', legendFormat: 'delivered' }] },
    { type: 'stat', width: 8, title: 'Notifications undelivered (1h)', description: 'Refused by the receiver (failed) or out of retries (gave_up): someone was not told.', unit: 'none', targets: [{ expr: `sum(increase(sb_notifications_total{${UNDELIVERED}}[1h])) or vector(0)`, legendFormat: 'undelivered' }] },
    { title: 'Alert events by state', description: 'Switchboard alert state changes published: firing, resolved, acknowledged, escalated.', unit: 'none', targets: [{ expr: `sum by (kind) (increase(sb_alerting_outputs_total{what="event"}[${RATE}]))`, legendFormat: '{{kind}}' }] },
    { title: 'Notifications enqueued by kind', description: 'Group notifications, escalations and acknowledgements put in the outbox.', unit: 'none', targets: [{ expr: `sum by (kind) (increase(sb_alerting_outputs_total{what="notification"}[${RATE}]))`, legendFormat: '{{kind}}' }] },
    { title: 'Delivery attempts by channel type and outcome', description: 'delivered, retrying, failed (refused), gave_up (out of retries), skipped (channel disabled), dropped (channel deleted).', unit: 'ops', targets: [{ expr: `sum by (channel_type, outcome) (rate(sb_notifications_total[${RATE}]))`, legendFormat: '{{channel_type}} {{outcome}}' }] },
    { title: 'Delivery latency', description: 'Time of one delivery attempt (HTTP POST to the receiver), by channel type.', unit: 's', targets: [
      { expr: `histogram_quantile(0.5, sum by (channel_type, le) (rate(sb_notification_delivery_duration_seconds_bucket[${RATE}])))`, legendFormat: 'p50 {{channel_type}}' },
      { expr: `histogram_quantile(0.95, sum by (channel_type, le) (rate(sb_notification_delivery_duration_seconds_bucket[${RATE}])))`, legendFormat: 'p95 {{channel_type}}' },
    ] },
    { title: 'Malformed inputs dropped', description: 'Messages the alerting engine could not parse, by input.', unit: 'none', targets: [{ expr: `sum by (input) (increase(sb_alerting_invalid_inputs_total[${RATE}]))`, legendFormat: '{{input}}' }] },
    { title: 'Alerting service requests', description: 'Rule, silence, policy and channel API traffic of the alerting service.', unit: 'reqps', targets: [{ expr: `sum by (endpoint, outcome) (rate(sb_requests_total{service="alerting"}[${RATE}]))`, legendFormat: '{{endpoint}} {{outcome}}' }] },
  ]);
}

export function recoveryDashboard(): Dashboard {
  return dashboard('sb-recovery', 'Switchboard / Recovery', [
    { type: 'stat', width: 6, title: 'Acting leaders', description: 'Recovery replicas holding the leader lease: 1 is healthy, 0 means nobody reclaims or restarts.', unit: 'none', targets: [{ expr: 'sum(sb_recovery_leader) or vector(0)', legendFormat: 'leaders' }] },
    { type: 'stat', width: 6, title: 'Open breakers', description: 'Circuit breakers open now (agents and capabilities).', unit: 'none', targets: [{ expr: `count(${onLeader('sb_breaker_state')} == 2) or vector(0)`, legendFormat: 'open' }] },
    { type: 'stat', width: 6, title: 'Capabilities shedding', description: 'Capabilities whose low (or low and normal) priority submissions are refused.', unit: 'none', targets: [{ expr: `count(${onLeader('sb_shed_level')} > 0) or vector(0)`, legendFormat: 'shedding' }] },
    { type: 'stat', width: 6, title: 'Tasks reclaimed (1h)', description: 'Tasks taken back from down agents in the last hour.', unit: 'none', targets: [{ expr: 'sum(increase(sb_recovery_reclaimed_tasks_total[1h])) or vector(0)', legendFormat: 'reclaimed' }] },
    { title: 'Leader by replica', description: '1 on the replica that holds the lease; a change is a failover.', unit: 'none', targets: [{ expr: 'max by (instance) (sb_recovery_leader)', legendFormat: '{{instance}}' }] },
    { title: 'Reclaimed tasks', description: "requeue: still under the dead agent's lease after the verify delay (the dispatcher did not hand it back, or nobody took it), republished from the record.", unit: 'none', targets: [{ expr: `sum by (how) (increase(sb_recovery_reclaimed_tasks_total[${RATE}]))`, legendFormat: '{{how}}' }] },
    { title: 'Reclaim latency', description: "From the agent-down event to recovery's fallback requeues done (the verify delay plus the record reads and writes).", unit: 's', targets: [
      { expr: `histogram_quantile(0.5, sum by (le) (rate(sb_recovery_reclaim_seconds_bucket{phase="requeue"}[${RATE}])))`, legendFormat: 'p50' },
      { expr: `histogram_quantile(0.95, sum by (le) (rate(sb_recovery_reclaim_seconds_bucket{phase="requeue"}[${RATE}])))`, legendFormat: 'p95' },
    ] },
    { title: 'Agent restarts', description: 'Restarts through the runtime adapter: ok, failed, budget_exhausted (recovery stopped and raised an alert), refused (not a worker the runtime knows).', unit: 'none', targets: [{ expr: `sum by (outcome) (increase(sb_recovery_restarts_total[${RATE}]))`, legendFormat: '{{outcome}}' }] },
    { title: 'Breaker states', description: '0 closed, 1 half-open, 2 open; per agent or capability breaker.', unit: 'none', targets: [{ expr: `max by (scope, key) (${onLeader('sb_breaker_state')})`, legendFormat: '{{scope}} {{key}}' }] },
    { title: 'Breaker transitions', description: 'State changes by scope, capability and new state.', unit: 'none', targets: [{ expr: `sum by (scope, capability, to) (increase(sb_breaker_transitions_total[${RATE}]))`, legendFormat: '{{scope}} {{capability}} → {{to}}' }] },
    { title: 'Shed level by capability', description: '0 none, 1 low shed, 2 low and normal shed (high always flows).', unit: 'none', targets: [{ expr: `max by (capability) (${onLeader('sb_shed_level')})`, legendFormat: '{{capability}}' }] },
    { title: 'Intake refusals', description: 'Submissions the gateways refused fast (503 + Retry-After), by capability and reason.', unit: 'reqps', targets: [{ expr: `sum by (capability, reason) (rate(sb_intake_refusals_total[${RATE}]))`, legendFormat: '{{capability}} {{reason}}' }] },
    { title: 'Shedding transitions', description: 'Load shedding level changes by capability.', unit: 'none', targets: [{ expr: `sum by (capability, level) (increase(sb_shed_transitions_total[${RATE}]))`, legendFormat: '{{capability}} → {{level}}' }] },
    { title: 'Tasks timed out', description: 'Queued or running tasks the deadline sweeper finalised as timed_out.', unit: 'none', targets: [{ expr: `sum(increase(sb_recovery_timed_out_tasks_total[${RATE}]))`, legendFormat: 'timed out' }] },
    { width: 24, title: 'Recovery service requests', description: 'Incident and dead-letter API traffic of the recovery service.', unit: 'reqps', targets: [{ expr: `sum by (endpoint, outcome) (rate(sb_requests_total{service="recovery"}[${RATE}]))`, legendFormat: '{{endpoint}} {{outcome}}' }] },
  ]);
}
