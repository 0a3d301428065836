/** The OpenAPI 3.1 document, with request bodies generated from the same zod schemas the edges validate with. */
import { CreateKeyRequestSchema, CreateTenantRequestSchema, RotateKeyBodySchema, SubmitTaskRequestSchema, TokenBodySchema } from '@sb/contracts';
import { z } from 'zod';

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

export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Switchboard gateway', version: '1.0.0', description: 'Submit tasks to a fleet of AI agents and follow them to their result.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (sbk_…) or access token' } },
      schemas: {
        SubmitTaskRequest: json(SubmitTaskRequestSchema),
        CreateTenantRequest: json(CreateTenantRequestSchema),
        CreateKeyRequest: json(CreateKeyRequestSchema),
        RotateKeyRequest: json(RotateKeyBodySchema),
        TokenRequest: json(TokenBodySchema),
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
          summary: "List the caller's tasks, newest first",
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string' } },
            { name: 'capability', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: { '200': ok('Tasks', { type: 'array', items: ref('Task') }), ...errors },
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
        post: { summary: 'Issue an API key (admin); the key is shown only in this reply', requestBody: body('CreateKeyRequest'), responses: { '201': ok('Key'), ...errors } },
        get: { summary: 'List keys (admin): prefix and last four characters only', responses: { '200': ok('Keys'), ...errors } },
      },
      '/v1/keys/{id}': { delete: { summary: 'Revoke a key (admin)', parameters: [taskId], responses: { '200': ok('Key'), ...errors } } },
      '/v1/keys/{id}/rotate': {
        post: {
          summary: 'Rotate a key (admin): a new key (shown once); the old one expires after overlapSeconds (default 3600)',
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
      '/.well-known/jwks.json': { get: { summary: 'Public keys of the access tokens (JWKS)', security: [], responses: { '200': ok('JWKS') } } },
      '/health/live': { get: { summary: 'Liveness', security: [], responses: { '200': ok('Alive') } } },
      '/health/ready': { get: { summary: 'Readiness (NATS, JetStream, Redis)', security: [], responses: { '200': ok('Ready'), '503': ok('Not ready') } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'text exposition' } } } },
    },
  };
}
