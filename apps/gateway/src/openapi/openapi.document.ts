/** The OpenAPI 3.1 document, with request bodies generated from the same zod schemas the edges validate with. */
import { CreateKeyRequestSchema, CreateTenantRequestSchema, RotateKeyBodySchema, SubmitTaskRequestSchema, TokenBodySchema, RedriveBodySchema } from '@sb/contracts';
import { ChannelPatchSchema, CreateChannelSchema } from '@sb/contracts';
import { AckBodySchema, AlertRuleInputSchema, EscalationPolicyInputSchema, SilenceInputSchema } from '@sb/contracts';
import { z } from 'zod';
import { consoleApiPaths } from '../console/console.openapi';
import { taskTraceSchema } from '../traces/task-trace.openapi';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  '400': ok('Invalid request', ref('Error')),
  '401': ok('Missing or invalid credentials', ref('Error')),
  '403': ok('Missing permission, or tenant inactive', ref('Error')),
  '404': ok('Not found (also: another tenant\'s resource)', ref('Error')),
  '429': ok('Rate limited (Retry-After header)', ref('Error')),
  '503': ok('Temporarily unavailable (Retry-After header)', ref('Error')),
};
const taskId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** Create/list/get/replace/delete paths of one alerting resource (read: alerts:read). */
function alertingCrud(path: string, what: string, schema: string, writer: string): Record<string, object> {
  return {
    [path]: {
      post: { summary: `Create an ${what} (${writer})`, requestBody: body(schema), responses: { '201': ok(what), ...errors } },
      get: { summary: `List ${what}s (alerts:read)`, responses: { '200': ok(`${what}s`, { type: 'array', items: { type: 'object' } }), ...errors } },
    },
    [`${path}/{id}`]: {
      get: { summary: `One ${what} (alerts:read)`, parameters: [taskId], responses: { '200': ok(what), ...errors } },
      put: { summary: `Replace an ${what} (${writer})`, parameters: [taskId], requestBody: body(schema), responses: { '200': ok(what), ...errors } },
      delete: { summary: `Delete an ${what} (${writer})`, parameters: [taskId], responses: { '200': ok('{id, deleted}'), ...errors } },
    },
  };
}

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Switchboard gateway', version: '1.0.0', description: 'Submit tasks to a fleet of AI agents and follow them to their result.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (sbk_…) or access token' } },
      schemas: {
        SubmitTaskRequest: json(SubmitTaskRequestSchema),
        TaskTrace: taskTraceSchema,
        CreateTenantRequest: json(CreateTenantRequestSchema),
        CreateKeyRequest: json(CreateKeyRequestSchema),
        RotateKeyRequest: json(RotateKeyBodySchema),
        TokenRequest: json(TokenBodySchema),
        CreateChannelRequest: json(CreateChannelSchema),
        ChannelPatch: json(ChannelPatchSchema),
        AlertRule: json(AlertRuleInputSchema),
        Silence: json(SilenceInputSchema),
        EscalationPolicy: json(EscalationPolicyInputSchema),
        AckRequest: json(AckBodySchema),
        Task: {
          type: 'object',
          properties: {
            taskId: { type: 'string' },
            status: { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead_lettered', 'timed_out'] },
            capability: { type: 'string' },
            priority: { enum: ['high', 'normal', 'low'] },
            result: {},
            error: { anyOf: [{ type: 'null' }, { type: 'object' }] },
            agentId: { type: ['string', 'null'] },
            attempts: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
            finishedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'retryable'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' }, retryAfter: { type: 'integer' } },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/tasks': {
        post: {
          summary: 'Submit a task',
          parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } }],
          requestBody: body('SubmitTaskRequest'),
          responses: { '202': ok('Queued: {taskId, status}'), '200': ok('Finished (wait=true)', ref('Task')), '413': ok('Input too large', ref('Error')), ...errors },
        },
        get: {
          summary: "A page of the caller's tasks, most recently changed first; the Sb-Next-Cursor response header is the next page's cursor (absent on the last page)",
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string' } },
            { name: 'capability', in: 'query', schema: { type: 'string' } },
            { name: 'tenantId', in: 'query', schema: { type: 'string' }, description: "Platform admins only: another tenant's tasks" },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'The Sb-Next-Cursor header of the previous page' },
          ],
          responses: {
            '200': { ...ok('Tasks', { type: 'array', items: ref('Task') }), headers: { 'Sb-Next-Cursor': { schema: { type: 'string' }, description: 'cursor of the next page' } } },
            ...errors,
          },
        },
      },
      '/v1/tasks/events': {
        get: {
          summary: 'Live task status changes as Server-Sent Events (event: task, data: TaskEvent; event: overflow when a slow client missed some)',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string' }, description: 'Comma-separated statuses to keep' },
            { name: 'capability', in: 'query', schema: { type: 'string' } },
            { name: 'taskId', in: 'query', schema: { type: 'string' } },
            { name: 'tenantId', in: 'query', schema: { type: 'string' }, description: 'Admin only: one tenant' },
          ],
          responses: { '200': { description: 'Event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errors },
        },
      },
      '/v1/tasks/{id}': {
        get: { summary: 'Get a task', parameters: [taskId], responses: { '200': ok('Task', ref('Task')), ...errors } },
        delete: { summary: 'Cancel a queued or running task', parameters: [taskId], responses: { '200': ok('Cancelled', ref('Task')), '409': ok('Already finished', ref('Error')), ...errors } },
      },
      '/v1/tasks/{id}/trace': {
        get: {
          summary: 'The task\'s trace: spans by service and agent, queued vs running time, attempts, critical path, gaps (tasks:read)',
          parameters: [taskId, { name: 'tenantId', in: 'query', schema: { type: 'string' }, description: "Platform admins only: another tenant's task" }],
          responses: { '200': ok('Trace timeline', ref('TaskTrace')), ...errors },
        },
      },
      '/v1/tasks/{id}/wait': {
        get: {
          summary: 'Wait until the task finishes or timeoutMs passes, then return it',
          parameters: [taskId, { name: 'timeoutMs', in: 'query', schema: { type: 'integer', minimum: 0 } }],
          responses: { '200': ok('Task', ref('Task')), ...errors },
        },
      },
      '/v1/tenants': {
        post: { summary: 'Create a tenant (admin)', requestBody: body('CreateTenantRequest'), responses: { '201': ok('Tenant'), ...errors } },
        get: { summary: 'List tenants (admin)', responses: { '200': ok('Tenants'), ...errors } },
      },
      '/v1/tenants/{id}': {
        get: { summary: 'Get a tenant', parameters: [taskId], responses: { '200': ok('Tenant'), ...errors } },
        patch: {
          summary: 'Change a tenant: admin may set name, plan, status (active|suspended), limits, keyLimits; a tenant key only its own name',
          parameters: [taskId],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { '200': ok('Tenant'), ...errors },
        },
      },
      '/v1/tenants/{id}/usage': {
        get: {
          summary: 'Usage by day and capability (tasks, tokens reported as result.usage.tokens)',
          parameters: [taskId, { name: 'days', in: 'query', schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': ok('Usage'), ...errors },
        },
      },
      '/v1/keys': {
        post: { summary: 'Issue an API key (admin; tenant:admin: its own tenant, scopes it holds; operator scopes for system keys only); the key is shown only in this reply', requestBody: body('CreateKeyRequest'), responses: { '201': ok('Key'), ...errors } },
        get: { summary: 'List keys (admin; tenant:admin: its own tenant\'s): prefix and last four characters only', responses: { '200': ok('Keys'), ...errors } },
      },
      '/v1/keys/{id}': { delete: { summary: 'Revoke a key (admin; tenant:admin: its own tenant\'s)', parameters: [taskId], responses: { '200': ok('Key'), ...errors } } },
      '/v1/keys/{id}/rotate': {
        post: {
          summary: 'Rotate a key (admin; tenant:admin: its own tenant\'s): a new key (shown once); the old one expires after overlapSeconds (default 3600)',
          parameters: [taskId],
          requestBody: { ...body('RotateKeyRequest'), required: false },
          responses: { '201': ok('New key, with `previous`'), '409': ok('Key revoked or expired', ref('Error')), ...errors },
        },
      },
      '/v1/tokens': {
        post: {
          summary: 'Exchange the API key in Authorization for a short-lived ES256 access token',
          requestBody: { ...body('TokenRequest'), required: false },
          responses: { '200': ok('{token, tokenType: "Bearer", expiresIn}'), ...errors },
        },
      },
      '/v1/security/report': {
        get: {
          summary: 'Security events of the last `hours` (admin): counts by type and tenant, top offending keys',
          parameters: [{ name: 'hours', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 168 } }],
          responses: { '200': ok('Report'), ...errors },
        },
      },
      '/v1/agents': {
        get: {
          summary: 'Agents known to the collector (fleet:read or admin): status, heartbeat age, capabilities, labels, in-flight, capacity, CPU, memory, flaps, active alerts',
          parameters: [{ name: 'status', in: 'query', schema: { enum: ['up', 'down', 'left'] } }],
          responses: { '200': ok('Agents', { type: 'array', items: { type: 'object' } }), ...errors },
        },
      },
      '/v1/fleet/overview': {
        get: { summary: 'Fleet overview (fleet:read or admin): agents by status with heartbeat age, capacity, active alerts by severity, metric series, degraded capabilities', responses: { '200': ok('FleetOverview'), ...errors } },
      },
      '/v1/fleet/report': {
        get: {
          summary: 'Performance report over the last `hours` (fleet:read or admin): per agent averages and maxima, task rate, error rate, p95, health score 0-100, and recommendations',
          parameters: [{ name: 'hours', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 168, default: 1 } }],
          responses: { '200': ok('FleetReport'), ...errors },
        },
      },
      '/v1/incidents': {
        get: {
          summary: 'Incidents (fleet:read or admin): each failure and what recovery did, with a timeline and linked alert fingerprints; newest first',
          parameters: [
            { name: 'status', in: 'query', schema: { enum: ['open', 'resolved'] } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          ],
          responses: { '200': ok('{incidents: Incident[]}'), ...errors },
        },
      },
      '/v1/incidents/{id}': { get: { summary: 'One incident with its timeline (fleet:read or admin)', parameters: [taskId], responses: { '200': ok('Incident'), ...errors } } },
      '/v1/notification-channels': {
        post: {
          summary: 'Create a notification channel (admin): webhook, slack, pagerduty or alertmanager. Secrets (headers, routingKey, URL tokens) are stored but only ever returned masked',
          requestBody: body('CreateChannelRequest'),
          responses: { '201': ok('Channel (masked)'), ...errors },
        },
        get: { summary: 'List notification channels (alerts:read or admin), secrets masked', responses: { '200': ok('Channels', { type: 'array', items: { type: 'object' } }), ...errors } },
      },
      '/v1/notification-channels/{id}': {
        get: { summary: 'One notification channel (alerts:read or admin), secrets masked', parameters: [taskId], responses: { '200': ok('Channel (masked)'), ...errors } },
        patch: { summary: 'Change a channel (admin); `headers` replaces all headers; the type cannot change', parameters: [taskId], requestBody: body('ChannelPatch'), responses: { '200': ok('Channel (masked)'), ...errors } },
        delete: { summary: 'Delete a channel and drop its pending deliveries (admin)', parameters: [taskId], responses: { '200': ok('The deleted channel (masked)'), ...errors } },
      },
      '/v1/notification-channels/{id}/deliveries': {
        get: {
          summary: 'Delivery attempts of a channel, newest first (alerts:read or admin): notification, kind, attempt, outcome, HTTP status, error, duration',
          parameters: [taskId, { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }],
          responses: { '200': ok('Delivery records', { type: 'array', items: { type: 'object' } }), ...errors },
        },
      },
      '/v1/notification-channels/{id}/test': {
        post: { summary: 'Send a test notification to this channel through the normal outbox and retries (admin)', parameters: [taskId], responses: { '202': ok('{notificationId, channelId}'), ...errors } },
      },
      '/v1/alerts': {
        get: {
          summary: 'Active alerts (alerts:read): pending, firing and recently resolved, with silence, inhibition, ack and escalation status',
          parameters: [
            { name: 'state', in: 'query', schema: { enum: ['pending', 'firing', 'resolved', 'acknowledged', 'silenced', 'inhibited'] } },
            { name: 'severity', in: 'query', schema: { enum: ['info', 'warning', 'critical', 'emergency'] } },
            { name: 'label', in: 'query', description: 'name=value, repeatable (all must match)', schema: { type: 'array', items: { type: 'string' } } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          ],
          responses: { '200': ok('Alerts', { type: 'array', items: { type: 'object' } }), ...errors },
        },
      },
      '/v1/alerts/{fingerprint}/ack': {
        post: {
          summary: 'Acknowledge a firing alert (alerts:write): stops its escalation until the ack expires (default 1 h)',
          parameters: [{ name: 'fingerprint', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: body('AckRequest'),
          responses: { '200': ok('The alert'), '409': ok('The alert is not firing', ref('Error')), ...errors },
        },
      },
      ...alertingCrud('/v1/alert-rules', 'alert rule', 'AlertRule', 'admin'),
      ...alertingCrud('/v1/silences', 'silence', 'Silence', 'alerts:write'),
      ...alertingCrud('/v1/escalation-policies', 'escalation policy', 'EscalationPolicy', 'admin'),
      '/v1/dead-letters': {
        get: {
          summary: "Dead letters, newest first, with each one's poison fingerprint and how many share it (admin: every tenant; otherwise tasks:read or tasks:submit, own tenant only)",
          parameters: [
            { name: 'capability', in: 'query', schema: { type: 'string' } },
            { name: 'tenant', in: 'query', description: 'admin: one tenant', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          ],
          responses: { '200': ok('Dead letters', { type: 'array', items: { type: 'object' } }), ...errors },
        },
        delete: {
          summary: 'Purge dead letters (of one capability); a tenant key purges only its own (admin or tasks:submit)',
          parameters: [{ name: 'capability', in: 'query', schema: { type: 'string' } }],
          responses: { '200': ok('{purged}'), ...errors },
        },
      },
      '/v1/dead-letters/{id}': {
        get: { summary: "One dead letter: the task and every attempt's error", parameters: [taskId], responses: { '200': ok('Dead letter'), ...errors } },
        delete: { summary: 'Delete one dead letter (admin or tasks:submit)', parameters: [taskId], responses: { '200': ok('{id, deleted}'), ...errors } },
      },
      '/v1/dead-letters/{id}/redrive': {
        post: {
          summary:
            'Run the task again as a new attempt cycle (same task id), optionally with an edited input or priority; admitted like a submit (tenant status, model access, rate limits, quota, running-task ceiling); the dead letter is removed, so a second redrive is 404; a task is redriven at most DLQ_REDRIVE_MAX times',
          parameters: [taskId],
          requestBody: { required: false, content: { 'application/json': { schema: json(RedriveBodySchema) } } },
          responses: { '202': ok('{id, taskId, status: queued, priority, inputChanged}'), '409': ok('The task is no longer dead-lettered, or RECOVERY.REDRIVE_LIMIT: redriven as often as allowed', ref('Error')), '413': ok('Input too large', ref('Error')), ...errors },
        },
      },
      ...consoleApiPaths(errors),
      '/.well-known/jwks.json': { get: { summary: 'Public keys of the access tokens (JWKS)', security: [], responses: { '200': ok('JWKS') } } },
    },
  };
}
