// The quick-start proof: submit an echo task through the gateway with
// `wait: true` and show the finished task record.
import type { Output } from './output';

export const DEMO_BODY = { capability: 'echo', input: { hello: 'world' }, wait: true } as const;

export function exampleCommand(gatewayPort: number): string {
  return (
    `curl -s -X POST localhost:${gatewayPort}/v1/tasks -H "Authorization: Bearer $KEY" ` +
    `-H 'content-type: application/json' -d '${JSON.stringify(DEMO_BODY)}'`
  );
}

/** True when the gateway answered 2xx with a task record whose status is `succeeded`. */
export async function runDemo(gatewayPort: number, adminKey: string, out: Output, timeoutMs = 45_000): Promise<boolean> {
  const url = `http://127.0.0.1:${gatewayPort}/v1/tasks`;
  out.info(`demo: POST ${url} ${JSON.stringify(DEMO_BODY)}`);
  let status = 0;
  let text = '';
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(DEMO_BODY),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
    out.error(`demo FAILED: no answer from the gateway (${cause ?? (err as Error).message})`);
    return false;
  }

  let record: unknown = text;
  try {
    record = JSON.parse(text);
  } catch {
    // not JSON: shown as text below
  }
  out.info(`demo: HTTP ${status}`);
  out.info(typeof record === 'string' ? record : JSON.stringify(record, null, 2));

  const taskStatus = typeof record === 'object' && record !== null ? (record as { status?: unknown }).status : undefined;
  if (status >= 200 && status < 300 && taskStatus === 'succeeded') {
    out.info(out.bold('demo OK: the echo task succeeded'));
    return true;
  }
  out.error(`demo FAILED: expected a 2xx reply with status "succeeded", got HTTP ${status} with status ${JSON.stringify(taskStatus)}`);
  return false;
}
