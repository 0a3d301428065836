/**
 * The task pipeline's buckets, as the task code uses them: records (TaskStore), idempotency
 * keys and the capability catalog. The streams and buckets themselves are declared in
 * libs/contracts topology.ts and ensured at boot by MessagingModule (ensureTopology).
 */

import type { KV } from '@nats-io/kv';
import type { Topology } from '@sb/messaging';
import { TaskStore } from './task-store';

export class TaskInfrastructure {
  readonly store: TaskStore;
  readonly idempotency: KV;
  readonly capabilities: KV;

  constructor(topology: Topology) {
    this.store = new TaskStore(topology.bucket('tasks'));
    this.idempotency = topology.bucket('idempotency');
    this.capabilities = topology.bucket('capabilities');
  }
}
