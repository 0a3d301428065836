/**
 * Prometheus alerting rules, shared by the Kubernetes PrometheusRule and the plain `rules.yml`
 * that docker compose loads. Only what Switchboard's own alerting does not already page for
 * (agents down, task error ratio and latency, backlog, dead letters, flapping, breakers, load
 * shedding, restart budgets and poison tasks are its default rules and recovery's alerts):
 * the control plane itself — who watches the watchers (alerting, the collector, the recovery
 * leader), request errors and latency of the services, lost notifications, dropped spans and
 * process resources. Every expression uses only series the services export (checked against a
 * live scrape by test/e2e/dashboard-metrics.e2e-spec.ts) plus Prometheus's own `up`.
 */
import type { FleetSpec } from './fleet-spec.schema';
import type { AlertRule, RuleGroup } from './crd.types';
import { PLATFORM_SERVICES } from './fleet-spec.schema';

/** Jobs are named after the Kubernetes Service (or compose service): platform names and agent-worker*. */
export const jobMatcher = () => `job=~"${[...PLATFORM_SERVICES, 'agent-worker.*'].join('|')}"`;
/** The control-plane services only (agent workers are watched by Switchboard's AgentDown). */
export const platformJobMatcher = (only: readonly string[] = PLATFORM_SERVICES) => `job=~"${only.join('|')}"`;

const rule = (alert: string, expr: string, forDuration: string, severity: string, summary: string, description: string): AlertRule => ({
  alert,
  expr,
  for: forDuration,
  labels: { severity, team: 'switchboard' },
  annotations: { summary, description },
});

/** No replica of `job` answers, or none is scraped at all (absent fires when the targets disappear); labelled with the job either way. */
const noneUp = (job: string) => `max by (job) (up{job="${job}"}) == 0 or absent(up{job="${job}"})`;

export function alertRuleGroups(fleet: FleetSpec): RuleGroup[] {
  const a = fleet.spec.monitoring.alerts;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  return [
    {
      name: 'switchboard.watchers',
      rules: [
        rule('SwitchboardAlertingDown', noneUp('alerting'), '2m', 'critical', 'No Switchboard alerting replica is up',
          "Switchboard's own alert rules are not evaluated and no notification is delivered; this page comes from Prometheus because Switchboard cannot page about itself."),
        rule('SwitchboardMetricsCollectorDown', noneUp('metrics-collector'), '2m', 'critical', 'No Switchboard metrics-collector replica is up',
          'Agent liveness is not tracked and no fleet samples are published: AgentDown and the fleet alert rules cannot fire, and recovery reclaims nothing.'),
        rule('SwitchboardRecoveryLeaderless', '(sum(sb_recovery_leader) or vector(0)) < 1', '2m', 'critical', 'No recovery replica is the acting leader',
          "Nobody reclaims a dead agent's tasks, restarts agents, updates circuit breakers or sheds load."),
        rule('SwitchboardServiceUnavailable', `count by (job) (up{${platformJobMatcher(['gateway', 'auth', 'tenancy'])}}) unless on (job) count by (job) (up{${platformJobMatcher(['gateway', 'auth', 'tenancy'])}} == 1)`,
          '2m', 'critical', 'No {{ $labels.job }} replica is up', 'Every {{ $labels.job }} target fails its scrape: task submission and the API are down.'),
        rule('SwitchboardServiceDown', `up{${platformJobMatcher()}} == 0`, '5m', 'warning', 'Switchboard target {{ $labels.job }} is down',
          'Prometheus could not scrape {{ $labels.instance }} ({{ $labels.job }}) for 5 minutes; the other replicas carry the load.'),
        rule('SwitchboardLivenessStoreFailing', 'sum by (service, op) (increase(sb_collector_redis_failures_total[5m])) > 0', '5m', 'warning',
          'The metrics-collector cannot reach Redis ({{ $labels.op }})',
          'Liveness deadlines are not written or swept: agents that die are not detected until Redis returns (deadlines are then re-armed, no false downs).'),
      ],
    },
    {
      name: 'switchboard.availability',
      rules: [
        rule('SwitchboardHighErrorRatio',
          `sum by (service) (rate(sb_requests_total{outcome="error"}[5m])) / sum by (service) (rate(sb_requests_total[5m])) > ${a.errorRatio}`,
          '10m', 'warning', '{{ $labels.service }} answers more than ' + pct(a.errorRatio) + ' of requests with errors',
          'Error ratio of {{ $labels.service }} is {{ $value | humanizePercentage }} over 5 minutes (client errors such as 401/429 count too).'),
        rule('SwitchboardHighLatencyP95',
          `histogram_quantile(0.95, sum by (service, le) (rate(sb_request_duration_seconds_bucket[5m]))) > ${a.p95LatencySeconds}`,
          '10m', 'warning', '{{ $labels.service }} p95 latency above ' + a.p95LatencySeconds + 's',
          'p95 request latency of {{ $labels.service }} is {{ $value | humanizeDuration }} over 5 minutes.'),
      ],
    },
    {
      name: 'switchboard.notifications',
      rules: [
        rule('SwitchboardNotificationsUndelivered', 'sum by (channel_type) (increase(sb_notifications_total{outcome=~"failed|gave_up"}[15m])) > 0', '0m', 'critical',
          '{{ $labels.channel_type }} notifications were not delivered',
          '{{ $value | humanize }} notification(s) to {{ $labels.channel_type }} channels were refused by the receiver or given up after every retry in 15 minutes: someone was not paged. Check GET /v1/notification-channels/:id/deliveries.'),
        rule('SwitchboardNotificationRetries',
          `sum by (channel_type) (rate(sb_notifications_total{outcome=~"retrying|failed|gave_up"}[10m])) / sum by (channel_type) (rate(sb_notifications_total{outcome=~"delivered|retrying|failed|gave_up"}[10m])) > ${a.notificationFailureRatio}`,
          '10m', 'warning', '{{ $labels.channel_type }} receivers fail more than ' + pct(a.notificationFailureRatio) + ' of delivery attempts',
          'Notifications are delayed by retries with backoff; the receiver is slow, refusing or unreachable (egress, DNS, credentials).'),
        rule('SwitchboardTraceExportFailing', 'sum by (service, exporter) (increase(sb_trace_export_failures_total[10m])) > 0', '15m', 'warning',
          '{{ $labels.service }} drops spans ({{ $labels.exporter }} export failing)', 'Span batches failed to export for 15 minutes: task traces are incomplete.'),
      ],
    },
    {
      name: 'switchboard.resources',
      rules: [
        rule('SwitchboardHighMemory', `process_resident_memory_bytes{${jobMatcher()}} > ${a.memoryBytes}`, '15m', 'warning',
          '{{ $labels.service }} uses more than ' + Math.round(a.memoryBytes / 1048576) + ' MiB',
          'Resident memory of {{ $labels.instance }} is {{ $value | humanize1024 }}B.'),
        rule('SwitchboardEventLoopLag', `nodejs_eventloop_lag_p99_seconds{${jobMatcher()}} > 0.5`, '10m', 'warning',
          '{{ $labels.service }} event loop p99 lag above 500ms', 'A blocked event loop delays every request and heartbeat of {{ $labels.instance }}.'),
      ],
    },
  ];
}
