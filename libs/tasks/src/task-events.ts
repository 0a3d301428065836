/** Task status changes as events on `<prefix>.v1.tasks.events.<tenant>.<task>.<status>` (kept in a stream). */
import { headers as natsHeaders } from '@nats-io/nats-core';
import { Headers, type TaskRecord } from '@sb/contracts';
import type { Bus } from '@sb/messaging';
import { toTaskEvent } from './task-announcer';

export function publishTaskEvent(bus: Bus, r: TaskRecord, now: Date = new Date()): void {
  let h;
  if (r.traceparent) {
    h = natsHeaders();
    h.set(Headers.TraceParent, r.traceparent);
  }
  bus.publish(bus.names.tasks.event(r.tenantId, r.taskId, r.status), toTaskEvent(r, now), h);
}
