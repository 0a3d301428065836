/** NATS adapter for recovery's dead-letter endpoints. No logic here. */
import { ResilienceEndpoints } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import type { DeadLettersHandler } from './dead-letters.handler';

export function serveDeadLetters(bus: Bus, h: DeadLettersHandler): void {
  bus.serve(ResilienceEndpoints.listDeadLetters, (req) => h.list(req));
  bus.serve(ResilienceEndpoints.getDeadLetter, (req) => h.get(req.id, req.tenantId));
  bus.serve(ResilienceEndpoints.redriveDeadLetter, (req) => h.redrive(req));
  bus.serve(ResilienceEndpoints.deleteDeadLetter, (req) => h.delete(req.id, req.tenantId));
  bus.serve(ResilienceEndpoints.purgeDeadLetters, (req) => h.purge(req.capability, req.tenantId));
}
