/**
 * Every NATS subject, stream, consumer and bucket name Switchboard uses, defined once.
 * Names hang off a configurable prefix (default `sb`) so several fleets, or several test
 * suites, can share one NATS server without seeing each other.
 */
export const DEFAULT_PREFIX = 'sb';

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead_lettered', 'timed_out'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled', 'dead_lettered', 'timed_out']);
export const isTerminal = (s: TaskStatus): boolean => TERMINAL_STATUSES.has(s);

/** What an agent asks of the control plane (requests), and `abort`, what it is told. */
export const AGENT_VERBS = ['take', 'keepalive', 'progress', 'complete', 'fail', 'abort'] as const;
export type AgentVerb = (typeof AGENT_VERBS)[number];

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const isPriority = (s: string): s is Priority => (PRIORITIES as readonly string[]).includes(s);

export const SEVERITIES = ['info', 'warning', 'critical', 'emergency'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ALERT_STATES = ['firing', 'resolved', 'acknowledged', 'escalated'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** A capability is a subject token and part of consumer names: keep it to a safe alphabet. */
export const CAPABILITY_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Builds every name for one prefix. The only place subject strings are written. */
export function names(prefix: string = DEFAULT_PREFIX) {
  const p = prefix;
  const up = p.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return {
    prefix: p,
    tasks: {
      submit: `${p}.v1.tasks.submit`,
      get: `${p}.v1.tasks.get`,
      cancel: `${p}.v1.tasks.cancel`,
      list: `${p}.v1.tasks.list`,
      /** `<prefix>.v1.tasks.events.<tenantId>.<taskId>.<status>` */
      event: (tenantId: string, taskId: string, status: TaskStatus) => `${p}.v1.tasks.events.${tenantId}.${taskId}.${status}`,
      eventsOfTask: (tenantId: string, taskId: string) => `${p}.v1.tasks.events.${tenantId}.${taskId}.*`,
      eventsOfTenant: (tenantId: string) => `${p}.v1.tasks.events.${tenantId}.>`,
      eventsAll: `${p}.v1.tasks.events.>`,
      eventsWithStatus: (status: TaskStatus) => `${p}.v1.tasks.events.*.*.${status}`,
    },
    agents: {
      heartbeat: (agentId: string) => `${p}.v1.agents.heartbeat.${agentId}`,
      heartbeatAll: `${p}.v1.agents.heartbeat.*`,
      metrics: (agentId: string) => `${p}.v1.agents.metrics.${agentId}`,
      metricsAll: `${p}.v1.agents.metrics.*`,
      up: (agentId: string) => `${p}.v1.agents.${agentId}.up`,
      down: (agentId: string) => `${p}.v1.agents.${agentId}.down`,
      /** Graceful leave: not a failure, no down alarm. */
      left: (agentId: string) => `${p}.v1.agents.${agentId}.left`,
      /** Every agent's liveness events of one kind (agent ids never collide with the verbs; see AgentIdSchema). */
      livenessOf: (state: 'up' | 'down' | 'left') => `${p}.v1.agents.*.${state}`,
      /** Request/reply: an agent announces itself (id, capabilities, version, capacity, host, labels). */
      register: `${p}.v1.agents.register`,
      /** Publish: an agent leaves gracefully. */
      deregister: `${p}.v1.agents.deregister`,
      /**
       * Agent protocol v1 (docs/agent-protocol.md): `<prefix>.v1.agents.<agentId>.take`, served by
       * any dispatcher; the verbs on a lease go to the dispatcher that granted it,
       * `<prefix>.v1.agents.<agentId>.<verb>.<dispatcher>`. The agent id is the 4th token.
       */
      work: (agentId: string, verb: AgentVerb, dispatcher?: string) => `${p}.v1.agents.${agentId}.${verb}${dispatcher ? `.${dispatcher}` : ''}`,
      workAll: (verb: AgentVerb, dispatcher?: string) => `${p}.v1.agents.*.${verb}${dispatcher ? `.${dispatcher}` : ''}`,
    },
    /** Samples the collector derives about the fleet (queue depth, error ratio, p95, dead letters, flaps). */
    fleet: {
      samples: `${p}.internal.fleet.samples`,
      /**
       * Agents' metric samples the collector accepted (valid labels, known agent, under the series
       * ceiling, no reserved `sb_fleet_*` name), one message per accepted batch. Alerting reads
       * agents' metrics only from here, never from `agents.metrics.*`.
       */
      validatedMetrics: `${p}.internal.fleet.metrics`,
    },
    /** The collector's internal API (overview, report, agent list) and its ask to an agent to register again. */
    fleetApi: {
      agents: `${p}.internal.fleet.agents`,
      overview: `${p}.internal.fleet.overview`,
      report: `${p}.internal.fleet.report`,
      /** Publish, collector → agent: "I do not know you" (state lost); the agent re-sends its registration. */
      reregister: (agentId: string) => `${p}.internal.fleet.reregister.${agentId}`,
    },
    alerts: {
      event: (severity: Severity, state: AlertState) => `${p}.v1.alerts.${severity}.${state}`,
      all: `${p}.v1.alerts.>`,
      /** Publish: another service raises or resolves an alert (RaiseAlertSchema). */
      raise: `${p}.internal.alerts.raise`,
    },
    /** Internal service-to-service subjects. Not part of the public contract. */
    internal: {
      authorize: `${p}.internal.auth.authorize`,
      keysCreate: `${p}.internal.auth.keys.create`,
      keysList: `${p}.internal.auth.keys.list`,
      keysRevoke: `${p}.internal.auth.keys.revoke`,
      keyRevoked: `${p}.internal.auth.keys.revoked`,
      keysRotate: `${p}.internal.auth.keys.rotate`,
      tokensIssue: `${p}.internal.auth.tokens.issue`,
      jwks: `${p}.internal.auth.jwks.get`,
      /** Auth rotated or retired a signing key: gateways refresh their key set. */
      jwksChanged: `${p}.internal.auth.jwks.changed`,
      /** Key ids revoked or expiring within the longest token lifetime (a gateway's boot-time view). */
      keysInvalidated: `${p}.internal.auth.keys.invalidated`,
      securityReport: `${p}.internal.auth.security.report`,
      /** NATS credentials (a `.creds` file) for a tenant's client, an agent or an ops subscriber. */
      natsCredentials: `${p}.internal.auth.nats.credentials`,
      /** Which tenant a NATS account belongs to (the gateway checks a NATS request's tenant against it). */
      natsAccount: `${p}.internal.auth.nats.account`,
      admit: `${p}.internal.tenancy.admit`,
      tenantsCreate: `${p}.internal.tenancy.tenants.create`,
      tenantsGet: `${p}.internal.tenancy.tenants.get`,
      tenantsList: `${p}.internal.tenancy.tenants.list`,
      tenantChanged: `${p}.internal.tenancy.tenants.changed`,
      tenancyPolicy: `${p}.internal.tenancy.policy`,
      tenantsPatch: `${p}.internal.tenancy.tenants.patch`,
      tenantsUsage: `${p}.internal.tenancy.tenants.usage`,
      tenancySlots: `${p}.internal.tenancy.slots`,
      /** Wake-up hint: work was enqueued for a capability and priority. Carries only who queued it (TaskReadyHint). */
      taskReady: (capability: string, priority: Priority) => `${p}.internal.tasks.ready.${capability}.${priority}`,
      taskReadyAny: (capability: string) => `${p}.internal.tasks.ready.${capability}.*`,
      taskReadyAll: `${p}.internal.tasks.ready.*.*`,
      /** Where a worker sends the finished task for a gateway that is waiting on it (per gateway instance). */
      taskDone: (gatewayId: string) => `${p}.internal.tasks.done.${gatewayId}`,
      /** A gateway ended a task (cancel, timeout): every gateway checks its waiters. */
      taskEnded: `${p}.internal.tasks.ended`,
      /** Finished tasks per capability and status, summed by each process that ends tasks (gateway, recovery) and sent every second. */
      taskTally: `${p}.internal.tasks.tally`,
      /** Abort a running task wherever it runs. */
      taskAbort: (taskId: string) => `${p}.internal.tasks.abort.${taskId}`,
      taskAbortAll: `${p}.internal.tasks.abort.*`,
    },
    queue: {
      stream: `${up}_TASKS`,
      /** `<prefix>.q.<capability>.<priority>`: one subject per capability and priority. */
      subject: (capability: string, priority: Priority) => `${p}.q.${capability}.${priority}`,
      all: `${p}.q.>`,
      consumer: (capability: string, priority: Priority) => `${up}_${capability.replace(/-/g, '_')}_${priority}`,
    },
    deadLetters: {
      stream: `${up}_DLQ`,
      subject: (capability: string) => `${p}.dlq.${capability}`,
      all: `${p}.dlq.>`,
    },
    taskEvents: { stream: `${up}_TASK_EVENTS` },
    /** Finished spans, batched per trace by every service, for the per-task timeline. */
    spans: {
      stream: `${up}_SPANS`,
      /** `<prefix>.spans.<traceId>` (32 lowercase hex). */
      subject: (traceId: string) => `${p}.spans.${traceId}`,
      all: `${p}.spans.*`,
    },
    buckets: {
      tasks: `${up}_tasks`,
      idempotency: `${up}_idem`,
      keys: `${up}_keys`,
      tenants: `${up}_tenants`,
      capabilities: `${up}_capabilities`,
      agents: `${up}_agents`,
    },
    /** Alerting: rule/silence/escalation-policy CRUD and alert queries (internal), its stream and buckets. */
    alerting: {
      /** `<prefix>.internal.alerting.<kind>.<verb>`, e.g. rules.create, silences.list, alerts.ack. */
      endpoint: (kind: 'rules' | 'silences' | 'policies' | 'alerts', verb: 'create' | 'list' | 'get' | 'update' | 'delete' | 'ack') =>
        `${p}.internal.alerting.${kind}.${verb}`,
      /** Every alert state change (`<prefix>.v1.alerts.>`) is kept here for replay. */
      stream: `${up}_ALERTS`,
      rulesBucket: `${up}_alert_rules`,
      silencesBucket: `${up}_alert_silences`,
      policiesBucket: `${up}_alert_policies`,
      /** Alert state per fingerprint (compare-and-set between replicas). */
      stateBucket: `${up}_alert_state`,
      /** Notification state per alert group (compare-and-set between replicas). */
      groupsBucket: `${up}_alert_groups`,
    },
    /** Recovery core: leader lease, action log, incidents (internal request subjects). */
    /** Runtime adapters that talk to a process supervisor over NATS (the `npm start` launcher). */
    runtime: {
      /** Request `{agentId, mode: "restart"|"replace"}` → `{action, alreadyGone}`; `{pool, replicas}` on `localScale`. */
      localRestart: `${p}.internal.runtime.local.restart`,
      localScale: `${p}.internal.runtime.local.scale`,
    },
    recoveryCore: {
      leaderBucket: `${up}_recovery_leader`,
      actionsBucket: `${up}_recovery_actions`,
      incidentsBucket: `${up}_incidents`,
      incidentsList: `${p}.internal.recovery.incidents.list`,
      incidentsGet: `${p}.internal.recovery.incidents.get`,
      /** Published on every incident change (opened, timeline entry, resolved). */
      incidentChanged: (incidentId: string) => `${p}.internal.recovery.incidents.changed.${incidentId}`,
      incidentChangedAll: `${p}.internal.recovery.incidents.changed.*`,
    },
    /** Notification channels (alerting): config CRUD (internal), the outbox, per-channel delivery work and the delivery log. */
    channels: {
      create: `${p}.internal.alerting.channels.create`,
      list: `${p}.internal.alerting.channels.list`,
      get: `${p}.internal.alerting.channels.get`,
      update: `${p}.internal.alerting.channels.update`,
      delete: `${p}.internal.alerting.channels.delete`,
      deliveries: `${p}.internal.alerting.channels.deliveries`,
      test: `${p}.internal.alerting.channels.test`,
      bucket: `${up}_notify_channels`,
      /** Per channel and alert group: the newest notification delivered (older retries are then superseded). */
      progressBucket: `${up}_notify_progress`,
      /** Every AlertNotification the engine decided on (deduplicated by its id). */
      outboxStream: `${up}_NOTIFICATIONS`,
      outbox: `${p}.internal.notifications.outbox`,
      fanoutConsumer: `${up}_notifications_fanout`,
      /** Work queue: one message per notification and channel. */
      deliveryStream: `${up}_NOTIFY_DELIVERIES`,
      delivery: (channelId: string) => `${p}.internal.notifications.deliver.${channelId}`,
      deliveryAll: `${p}.internal.notifications.deliver.*`,
      deliveryConsumer: (channelId: string) => `${up}_deliver_${channelId}`,
      /** Every delivery attempt, bounded per channel. */
      logStream: `${up}_NOTIFY_LOG`,
      log: (channelId: string) => `${p}.internal.notifications.log.${channelId}`,
      logAll: `${p}.internal.notifications.log.*`,
    },
    /** Circuit breakers, load shedding and dead-letter handling (recovery; see docs/resilience.md). */
    resilience: {
      /** Publish, worker → recovery: batched attempt outcomes (OutcomeBatchSchema). */
      outcomes: (agentId: string) => `${p}.internal.resilience.outcomes.${agentId}`,
      outcomesAll: `${p}.internal.resilience.outcomes.*`,
      /** Publish, recovery leader → all: a breaker changed state (BreakerState). */
      breakers: `${p}.internal.resilience.breakers`,
      /** Publish, recovery leader → all: a capability's load-shedding state changed or was refreshed (ShedState). */
      shedding: `${p}.internal.resilience.shedding`,
      /** KV: `breaker.agent.<agentId>.<capability>`, `breaker.capability.<capability>`, `shed.<capability>`. */
      bucket: `${up}_resilience`,
      dlqList: `${p}.internal.recovery.dlq.list`,
      dlqGet: `${p}.internal.recovery.dlq.get`,
      dlqRedrive: `${p}.internal.recovery.dlq.redrive`,
      /** A redrive checked, not done (the gateway's step before it admits the redrive like a submit). */
      dlqRedriveCheck: `${p}.internal.recovery.dlq.check`,
      dlqDelete: `${p}.internal.recovery.dlq.delete`,
      dlqPurge: `${p}.internal.recovery.dlq.purge`,
    },
    /** Queue groups so every replica of a service shares the load of a request subject. */
    queueGroup: (service: string) => `${p}.${service}`,
  } as const;
}
export type Names = ReturnType<typeof names>;

/** Header names on the wire. */
export const Headers = {
  Authorization: 'Authorization',
  IdempotencyKey: 'Idempotency-Key',
  TraceParent: 'traceparent',
  TraceState: 'tracestate',
  ErrorCode: 'Nats-Service-Error-Code',
  Error: 'Nats-Service-Error',
  RetryAfter: 'Retry-After',
  MsgId: 'Nats-Msg-Id',
  TaskId: 'Sb-Task-Id',
  TenantId: 'Sb-Tenant-Id',
  /** On a queued task: the waiting gateway's completion subject (`Events.taskCompletion`); the finished task goes there. */
  Notify: 'Sb-Notify',
  /** On a queued task: the KV revision of its record when it was queued. */
  RecordRevision: 'Sb-Record-Revision',
  /** On a queued task: the tenant's ceiling on running tasks when it was queued (absent = unlimited, no slot needed). */
  ConcurrencyLimit: 'Sb-Concurrency-Limit',
  /** On a copy recovery requeued from the record: the record revision it may start from (else it is dropped). */
  Reclaimed: 'Sb-Reclaimed',
  /** On a page of a list (HTTP and NATS replies): the `cursor` that asks for the next page; absent on the last. */
  NextCursor: 'Sb-Next-Cursor',
} as const;

/** The tenant that owns the bootstrap admin key and platform-level work. */
export const SYSTEM_TENANT_ID = 'system';
