/** OpenAPI paths of the console's data routes (console-api.http.ts). */
const str = { type: 'string' };
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });

export function consoleApiPaths(errors: Record<string, object>): Record<string, object> {
  return {
    '/v1/console/session': {
      get: {
        summary: "The calling key as the ops console sees it (any key): its tenant, scopes, whether it is the platform admin, and which console views its scopes allow",
        responses: { '200': ok('{keyId, tenantId, scopes, platformAdmin, can}'), ...errors },
      },
    },
    '/v1/console/series': {
      get: {
        summary:
          'The ops console charts (fleet:read or admin): throughput, run-time p95 and error ratio per capability, queue depth and oldest wait per capability and priority, agents up/down; sampled every 5 s by this gateway, kept for an hour',
        parameters: [{ name: 'minutes', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 60, default: 30 } }],
        responses: { '200': ok('{stepMs, t: epoch seconds[], series: [{metric, labels, values}], metrics, droppedSeries}'), ...errors },
      },
    },
    '/v1/console/tasks/{id}': {
      get: {
        summary: "One task in detail (tasks:read or tasks:submit): the task, its input, every failed attempt's error, deadline, redrives, trace id and a timeline",
        parameters: [
          { name: 'id', in: 'path', required: true, schema: str },
          { name: 'tenantId', in: 'query', schema: str, description: "Platform admins only: another tenant's task" },
        ],
        responses: { '200': ok('Task detail'), ...errors },
      },
    },
  };
}
