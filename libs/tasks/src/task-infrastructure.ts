/**
 * The task pipeline's buckets, as the task code uses them: records (TaskStore), idempotency
 * keys and the capability catalog. The streams and buckets themselves are declared in
 * libs/contracts topology.ts and ensured at boot by MessagingModule (ensureTopology).
 */

import type { KV } from '@nats-io/kv';
import { KvWriter, type NatsClient, type Topology } from '@sb/messaging';
import { TaskStore } from './task-store';

export class TaskInfrastructure {
  readonly store: TaskStore;
  readonly idempotency: KV;
  readonly capabilities: KV;

  constructor(topology: Topology, client: NatsClient) {
    const tasks = topology.bucket('tasks');
    this.store = new TaskStore(tasks, new KvWriter(client.mux, tasks, client.names.buckets.tasks, client.options.requestTimeoutMs));
    this.idempotency = topology.bucket('idempotency');
    this.capabilities = topology.bucket('capabilities');
  }
}
