/** The alerting routes are in the OpenAPI document, with bodies generated from the contract schemas. */
import { openApiDocument } from '../openapi/openapi.document';

describe('alerting in the OpenAPI document', () => {
  it('lists every alerting route and its request schemas', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, { anyOf?: unknown[]; oneOf?: unknown[]; properties?: Record<string, unknown> }> } };
    expect(Object.keys(doc.paths).filter((p) => /alert|silence|escalation/.test(p)).sort()).toEqual([
      '/v1/alert-rules',
      '/v1/alert-rules/{id}',
      '/v1/alerts',
      '/v1/alerts/{fingerprint}/ack',
      '/v1/escalation-policies',
      '/v1/escalation-policies/{id}',
      '/v1/silences',
      '/v1/silences/{id}',
    ]);
    expect(Object.keys(doc.paths['/v1/alert-rules/{id}']).sort()).toEqual(['delete', 'get', 'put']);
    const rule = doc.components.schemas.AlertRule;
    expect((rule.oneOf ?? rule.anyOf)?.length).toBe(4);
    expect(doc.components.schemas.EscalationPolicy.properties).toHaveProperty('schedule');
    expect(doc.components.schemas.Silence.properties).toHaveProperty('matchers');
  });
});
