/**
 * Prometheus alerting rules, shared by the Kubernetes PrometheusRule and the plain `rules.yml`
 * that docker compose loads. Every expression uses only series the services export today
 * (prom-client defaults, sb_requests_total, sb_request_duration_seconds, sb_worker_tasks_total)
 * plus Prometheus's own `up`.
 */
import type { FleetSpec } from './fleet-spec.schema';
import type { AlertRule, RuleGroup } from './crd.types';
import { PLATFORM_SERVICES } from './fleet-spec.schema';

/** Jobs are named after the Kubernetes Service (or compose service): platform names and agent-worker*. */
export const jobMatcher = () => `job=~"${[...PLATFORM_SERVICES, 'agent-worker.*'].join('|')}"`;

const rule = (alert: string, expr: string, forDuration: string, severity: string, summary: string, description: string): AlertRule => ({
  alert,
  expr,
  for: forDuration,
  labels: { severity, team: 'switchboard' },
  annotations: { summary, description },
});

export function alertRuleGroups(fleet: FleetSpec): RuleGroup[] {
  const a = fleet.spec.monitoring.alerts;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  return [
    {
      name: 'switchboard.availability',
      rules: [
        rule('SwitchboardServiceDown', `up{${jobMatcher()}} == 0`, '2m', 'critical', 'Switchboard target {{ $labels.job }} is down',
          'Prometheus could not scrape {{ $labels.instance }} ({{ $labels.job }}) for 2 minutes.'),
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
      name: 'switchboard.tasks',
      rules: [
        rule('SwitchboardWorkerFailureRatio',
          `sum by (capability) (rate(sb_worker_tasks_total{outcome="failed"}[10m])) / sum by (capability) (rate(sb_worker_tasks_total[10m])) > ${a.workerFailureRatio}`,
          '10m', 'warning', 'Tasks of {{ $labels.capability }} fail more than ' + pct(a.workerFailureRatio) + ' of attempts',
          'Failed attempts are retried with backoff and dead-lettered after the retry budget; check GET /v1/dead-letters.'),
        rule('SwitchboardWorkerStalled',
          `sum by (capability) (increase(sb_worker_tasks_total{outcome="failed"}[15m])) > 0 and sum by (capability) (increase(sb_worker_tasks_total{outcome="succeeded"}[15m])) == 0`,
          '5m', 'critical', 'No task of {{ $labels.capability }} succeeded for 15 minutes while attempts fail',
          'Every attempt of {{ $labels.capability }} fails: these tasks are heading for the dead-letter stream.'),
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
