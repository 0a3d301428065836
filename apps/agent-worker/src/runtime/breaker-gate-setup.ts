/** Wires a worker into the circuit breakers: its gate on the resilience bucket, and the outcome reporter. */
import type { KV } from '@nats-io/kv';
import type { NatsClient } from '@sb/messaging';
import type { AppLogger } from '@sb/observability';
import { BreakerGate } from './breaker-gate';
import { OutcomeReporter } from './breaker-gate-outcomes';

export interface BreakerWiring {
  gate: BreakerGate;
  outcomes: OutcomeReporter;
  stop(): void;
}

export async function startBreakerGate(
  client: NatsClient,
  bucket: KV,
  workerId: string,
  capabilities: string[],
  flushMs: number,
  wake: () => void,
  logger: AppLogger,
): Promise<BreakerWiring> {
  const gate = new BreakerGate(workerId, () => {
    logger.info({ blocked: gate.blocked() }, 'circuit breaker changed for this worker');
    wake();
  });
  try {
    await gate.watch(bucket);
  } catch (err) {
    // Without the bucket the gate stays open (fail open): the worker keeps taking work.
    logger.warn({ err }, 'breaker states unavailable; taking work without the breaker gate');
  }
  const report = (b: unknown) => client.nc.publish(client.names.resilience.outcomes(workerId), JSON.stringify(b));
  const outcomes = new OutcomeReporter(workerId, capabilities, report, flushMs);
  outcomes.start();
  return {
    gate,
    outcomes,
    stop: () => {
      outcomes.stop();
      gate.stop();
    },
  };
}
