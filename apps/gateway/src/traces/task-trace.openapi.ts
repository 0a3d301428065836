/** OpenAPI pieces for GET /v1/tasks/{id}/trace (the reply type is TaskTraceReply in libs/contracts). */
const str = { type: 'string' };
const num = { type: 'number' };
const nullable = (t: string) => ({ type: [t, 'null'] });
const time = { type: 'string', format: 'date-time' };
const segment = { type: 'object', properties: { spanId: str, name: str, service: str, start: time, end: time, durationMs: num } };

export const taskTraceSchema = {
  type: 'object',
  required: ['taskId', 'traceId', 'status', 'attempts', 'createdAt', 'spans', 'analysis'],
  properties: {
    taskId: str,
    traceId: { ...nullable('string'), description: 'W3C trace id (32 hex) of the task' },
    status: str,
    attempts: { type: 'integer' },
    createdAt: time,
    startedAt: nullable('string'),
    finishedAt: nullable('string'),
    spans: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          spanId: str,
          parentSpanId: nullable('string'),
          name: str,
          kind: { enum: ['internal', 'server', 'client', 'producer', 'consumer'] },
          service: str,
          agentId: str,
          start: time,
          end: time,
          durationMs: num,
          status: { enum: ['unset', 'ok', 'error'] },
          statusMessage: str,
          attributes: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
        },
      },
    },
    analysis: {
      type: 'object',
      properties: {
        totalDurationMs: num,
        queuedMs: { ...nullable('number'), description: 'enqueue (or creation) → first run start' },
        runningMs: { ...nullable('number'), description: 'time in task.run spans over all attempts' },
        attempts: { type: 'integer' },
        agents: { type: 'array', items: { type: 'object', properties: { agentId: str, attempts: { type: 'integer' }, durationMs: num } } },
        services: { type: 'array', items: { type: 'object', properties: { service: str, spans: { type: 'integer' }, durationMs: num } } },
        criticalPath: { type: 'array', items: segment, description: 'The chain of spans that sets end-to-end latency, in time order' },
        gaps: { type: 'array', items: { type: 'object', properties: { start: time, end: time, durationMs: num, after: nullable('string'), before: nullable('string') } } },
        spanCount: { type: 'integer' },
        truncated: { type: 'boolean', description: 'The span read stopped at its bound' },
      },
    },
  },
};
