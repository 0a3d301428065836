/**
 * The Switchboard dashboards: fleet overview, task pipeline, per-service RED (here), alerts and
 * recovery (alerting-recovery-dashboards.ts). Expressions reference only series the services
 * export (checked against a live scrape by test/e2e/dashboard-metrics.e2e-spec.ts), plus
 * Prometheus's own `up` and `ALERTS`.
 *
 * Per-agent series come from the collector's /metrics/fleet (job `metrics-collector-fleet`).
 * Every collector replica exposes the whole fleet, so they are read with `max by (agent, ...)`,
 * never summed across replicas.
 */
import { jobMatcher } from './alert-rules.builder';
import { alertsDashboard, recoveryDashboard } from './alerting-recovery-dashboards';
import { type Dashboard, dashboard } from './grafana-panels';

const RATE = '$__rate_interval';
const SVC = 'service=~"$service"';
/** One value per agent series whatever the number of collector replicas. */
const perAgent = (metric: string, by = 'agent') => `max by (${by}) (${metric})`;

export function fleetOverviewDashboard(): Dashboard {
  return dashboard('sb-fleet-overview', 'Switchboard / Fleet overview', [
    { type: 'stat', width: 6, title: 'Targets up', description: 'Scraped Switchboard processes that answer.', unit: 'none', targets: [{ expr: `sum(up{${jobMatcher()}})`, legendFormat: 'up' }] },
    { type: 'stat', width: 6, title: 'Requests / s', description: 'All requests served, every transport.', unit: 'reqps', targets: [{ expr: `sum(rate(sb_requests_total[${RATE}]))`, legendFormat: 'requests' }] },
    { type: 'stat', width: 6, title: 'Error ratio', description: 'Share of requests answered with an error.', unit: 'percentunit', targets: [{ expr: `sum(rate(sb_requests_total{outcome="error"}[${RATE}])) / sum(rate(sb_requests_total[${RATE}]))`, legendFormat: 'errors' }] },
    { type: 'stat', width: 6, title: 'Tasks / s', description: 'Task attempts finished by agent workers.', unit: 'ops', targets: [{ expr: `sum(rate(sb_worker_tasks_total[${RATE}]))`, legendFormat: 'tasks' }] },
    { title: 'Up by job', description: '1 when Prometheus scrapes the target.', unit: 'none', targets: [{ expr: `up{${jobMatcher()}}`, legendFormat: '{{job}} {{instance}}' }] },
    { title: 'Requests by service', description: 'Request rate per service.', unit: 'reqps', targets: [{ expr: `sum by (service) (rate(sb_requests_total[${RATE}]))`, legendFormat: '{{service}}' }] },
    { title: 'Resident memory', description: 'process_resident_memory_bytes per process.', unit: 'bytes', targets: [{ expr: 'process_resident_memory_bytes', legendFormat: '{{service}} {{instance}}' }] },
    { title: 'CPU', description: 'CPU seconds per second per process.', unit: 'percentunit', targets: [{ expr: `rate(process_cpu_seconds_total[${RATE}])`, legendFormat: '{{service}} {{instance}}' }] },
    { title: 'Event loop lag p99', description: 'A high value delays every request and heartbeat.', unit: 's', targets: [{ expr: 'nodejs_eventloop_lag_p99_seconds', legendFormat: '{{service}} {{instance}}' }] },
    { title: 'Heap used', description: 'V8 heap in use.', unit: 'bytes', targets: [{ expr: 'nodejs_heap_size_used_bytes', legendFormat: '{{service}} {{instance}}' }] },
    // ---- agents: liveness (the collector's own /metrics) ----
    { type: 'stat', width: 6, title: 'Agent workers up', description: 'Agent worker processes Prometheus scrapes. Heartbeat liveness is judged by the collector (AgentDown alert).', unit: 'none', targets: [{ expr: 'count(up{job=~"agent-worker.*"} == 1) or vector(0)', legendFormat: 'up' }] },
    { type: 'stat', width: 6, title: 'Agents declared down (1h)', description: 'Down announcements by the collector (missed heartbeats) in the last hour.', unit: 'none', targets: [{ expr: 'sum(increase(sb_collector_liveness_events_total{state="down"}[1h])) or vector(0)', legendFormat: 'down' }] },
    { type: 'stat', width: 6, title: 'Heartbeats / s', description: 'Accepted heartbeats, all agents.', unit: 'ops', targets: [{ expr: `sum(rate(sb_collector_heartbeats_total{verdict="accepted"}[${RATE}]))`, legendFormat: 'beats' }] },
    { type: 'stat', width: 6, title: 'Fleet utilisation', description: 'Tasks in flight / capacity, every agent (from /metrics/fleet).', unit: 'percentunit', targets: [{ expr: `sum(${perAgent('sb_agent_in_flight')}) / sum(${perAgent('sb_agent_capacity')})`, legendFormat: 'in flight' }] },
    { title: 'Liveness events', description: 'Agents announced up (registered, heartbeat resumed), down (missed heartbeats) and left (graceful).', unit: 'none', targets: [{ expr: `sum by (state) (increase(sb_collector_liveness_events_total[${RATE}]))`, legendFormat: '{{state}}' }] },
    { title: 'Heartbeats by verdict', description: 'accepted, invalid, mismatch (wrong agent id), stale.', unit: 'ops', targets: [{ expr: `sum by (verdict) (rate(sb_collector_heartbeats_total[${RATE}]))`, legendFormat: '{{verdict}}' }] },
    { title: 'Down detection lag', description: "From an agent's liveness deadline to its down announcement.", unit: 's', targets: [
      { expr: `histogram_quantile(0.5, sum by (le) (rate(sb_collector_detection_lag_seconds_bucket[${RATE}])))`, legendFormat: 'p50' },
      { expr: `histogram_quantile(0.95, sum by (le) (rate(sb_collector_detection_lag_seconds_bucket[${RATE}])))`, legendFormat: 'p95' },
    ] },
    { title: 'Liveness store failures', description: 'Liveness writes or sweeps that failed (Redis unreachable): no agent is judged meanwhile.', unit: 'none', targets: [{ expr: `sum by (op) (increase(sb_collector_redis_failures_total[${RATE}]))`, legendFormat: '{{op}}' }] },
    // ---- agents: what they report (the collector's /metrics/fleet) ----
    { title: 'Agent CPU', description: 'Process CPU of each agent, % of one core (heartbeat metric batches).', unit: 'percent', targets: [{ expr: perAgent('sb_agent_cpu_percent'), legendFormat: '{{agent}}' }] },
    { title: 'Agent memory', description: 'Resident memory of each agent, % of its limit.', unit: 'percent', targets: [{ expr: perAgent('sb_agent_memory_percent'), legendFormat: '{{agent}}' }] },
    { title: 'Agent in flight / capacity', description: 'Tasks each agent runs now, against its concurrency.', unit: 'none', targets: [
      { expr: perAgent('sb_agent_in_flight'), legendFormat: '{{agent}} in flight' },
      { expr: perAgent('sb_agent_capacity'), legendFormat: '{{agent}} capacity' },
    ] },
    { title: 'Agent tasks by outcome', description: 'Task attempts each agent finished, by outcome.', unit: 'ops', targets: [{ expr: `sum by (agent, outcome) (${perAgent(`rate(sb_agent_tasks_total[${RATE}])`, 'agent, capability, outcome')})`, legendFormat: '{{agent}} {{outcome}}' }] },
    { title: 'Agent task time p95', description: 'p95 time an agent spends on a task.', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (agent, le) (${perAgent(`rate(sb_agent_task_duration_seconds_bucket[${RATE}])`, 'agent, capability, le')}))`, legendFormat: '{{agent}}' }] },
    { title: 'Agent metric samples', description: 'Samples the collector accepted, and dropped by reason (cardinality, invalid, unknown agent ...).', unit: 'ops', targets: [
      { expr: `sum(rate(sb_collector_samples_total[${RATE}]))`, legendFormat: 'accepted' },
      { expr: `sum by (reason) (rate(sb_collector_samples_dropped_total[${RATE}]))`, legendFormat: 'dropped {{reason}}' },
    ] },
  ]);
}

export function taskPipelineDashboard(): Dashboard {
  return dashboard('sb-task-pipeline', 'Switchboard / Task pipeline', [
    { title: 'Task submissions', description: 'Submit requests at the gateway by transport and outcome.', unit: 'reqps', targets: [{ expr: `sum by (transport, outcome) (rate(sb_requests_total{service="gateway", endpoint=~".*tasks.*"}[${RATE}]))`, legendFormat: '{{transport}} {{outcome}}' }] },
    { title: 'Submission latency p95', description: 'p95 time to answer task endpoints at the gateway.', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (endpoint, le) (rate(sb_request_duration_seconds_bucket{service="gateway", endpoint=~".*tasks.*"}[${RATE}])))`, legendFormat: '{{endpoint}}' }] },
    { title: 'Task attempts by outcome', description: 'succeeded, failed (retried, then dead-lettered) and superseded (cancelled or timed out meanwhile).', unit: 'ops', targets: [{ expr: `sum by (outcome) (rate(sb_worker_tasks_total[${RATE}]))`, legendFormat: '{{outcome}}' }] },
    { title: 'Task attempts by capability', description: 'Throughput per capability.', unit: 'ops', targets: [{ expr: `sum by (capability) (rate(sb_worker_tasks_total[${RATE}]))`, legendFormat: '{{capability}}' }] },
    { title: 'Failure ratio by capability', description: 'Failed attempts / all attempts.', unit: 'percentunit', targets: [{ expr: `sum by (capability) (rate(sb_worker_tasks_total{outcome="failed"}[${RATE}])) / sum by (capability) (rate(sb_worker_tasks_total[${RATE}]))`, legendFormat: '{{capability}}' }] },
    { title: 'Agent time p50 / p95', description: 'Time an agent spends on a task.', unit: 's', targets: [
      { expr: `histogram_quantile(0.5, sum by (capability, le) (rate(sb_worker_task_duration_seconds_bucket[${RATE}])))`, legendFormat: 'p50 {{capability}}' },
      { expr: `histogram_quantile(0.95, sum by (capability, le) (rate(sb_worker_task_duration_seconds_bucket[${RATE}])))`, legendFormat: 'p95 {{capability}}' },
    ] },
    { title: 'Mean agent time', description: 'Average agent time per attempt.', unit: 's', targets: [{ expr: `sum by (capability) (rate(sb_worker_task_duration_seconds_sum[${RATE}])) / sum by (capability) (rate(sb_worker_task_duration_seconds_count[${RATE}]))`, legendFormat: '{{capability}}' }] },
    { title: 'Workers up', description: 'Agent worker processes Prometheus scrapes.', unit: 'none', targets: [{ expr: 'count by (job) (up{job=~"agent-worker.*"} == 1)', legendFormat: '{{job}}' }] },
  ]);
}

export function serviceRedDashboard(): Dashboard {
  return dashboard('sb-service-red', 'Switchboard / Service RED', [
    { width: 8, title: 'Rate', description: 'Requests per second by service and transport.', unit: 'reqps', targets: [{ expr: `sum by (service, transport) (rate(sb_requests_total{${SVC}}[${RATE}]))`, legendFormat: '{{service}} {{transport}}' }] },
    { width: 8, title: 'Errors', description: 'Error responses per second by service and code.', unit: 'reqps', targets: [{ expr: `sum by (service, code) (rate(sb_requests_total{${SVC}, outcome="error"}[${RATE}]))`, legendFormat: '{{service}} {{code}}' }] },
    { width: 8, title: 'Duration p95', description: 'p95 latency by service.', unit: 's', targets: [{ expr: `histogram_quantile(0.95, sum by (service, le) (rate(sb_request_duration_seconds_bucket{${SVC}}[${RATE}])))`, legendFormat: '{{service}}' }] },
    { title: 'Top endpoints by rate', description: 'The ten busiest endpoints.', unit: 'reqps', targets: [{ expr: `topk(10, sum by (service, endpoint) (rate(sb_requests_total{${SVC}}[${RATE}])))`, legendFormat: '{{service}} {{endpoint}}' }] },
    { title: 'Endpoint latency p99', description: 'p99 latency by endpoint.', unit: 's', targets: [{ expr: `histogram_quantile(0.99, sum by (service, endpoint, le) (rate(sb_request_duration_seconds_bucket{${SVC}}[${RATE}])))`, legendFormat: '{{service}} {{endpoint}}' }] },
    { title: 'Mean duration', description: 'Average time to serve a request.', unit: 's', targets: [{ expr: `sum by (service) (rate(sb_request_duration_seconds_sum{${SVC}}[${RATE}])) / sum by (service) (rate(sb_request_duration_seconds_count{${SVC}}[${RATE}]))`, legendFormat: '{{service}}' }] },
    { title: 'Open handles', description: 'Active handles (sockets, timers) per process.', unit: 'none', targets: [{ expr: `sum by (service, instance) (nodejs_active_handles{${SVC}})`, legendFormat: '{{service}} {{instance}}' }] },
  ], true);
}

/** File name → dashboard, in a fixed order. */
export function allDashboards(): Array<[string, Dashboard]> {
  return [
    ['fleet-overview.json', fleetOverviewDashboard()],
    ['task-pipeline.json', taskPipelineDashboard()],
    ['alerts.json', alertsDashboard()],
    ['recovery.json', recoveryDashboard()],
    ['service-red.json', serviceRedDashboard()],
  ];
}
