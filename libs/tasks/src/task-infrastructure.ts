/**
 * The task pipeline's buckets, as the task code uses them: records (TaskStore), idempotency
 * keys and the capability catalog. The streams and buckets themselves are declared in
 * libs/contracts topology.ts and ensured at boot by MessagingModule (ensureTopology).
 */

import type { KV } from '@nats-io/kv';
import { KvWriter, type NatsClient, type Topology } from '@sb/messaging';
import { TaskPages } from './task-pages';
import { TaskStore } from './task-store';

export class TaskInfrastructure {
  readonly store: TaskStore;
  /** The records a page at a time (listing). */
  readonly pages: TaskPages;
  readonly idempotency: KV;
  readonly capabilities: KV;

  constructor(topology: Topology, client: NatsClient) {
    const tasks = topology.bucket('tasks');
    this.store = new TaskStore(tasks, new KvWriter(client.mux, tasks, client.names.buckets.tasks, client.options.requestTimeoutMs));
    this.pages = new TaskPages(client.jsm, `KV_${client.names.buckets.tasks}`, `$KV.${client.names.buckets.tasks}.`);
    this.idempotency = topology.bucket('idempotency');
    this.capabilities = topology.bucket('capabilities');
  }
}
