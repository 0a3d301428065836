/**
 * Opens (creating if needed) everything the task pipeline stores in JetStream: the work
 * queue, dead letters, task events, and the task, idempotency and capability buckets.
 * Every service that touches tasks calls this at boot, so start order never matters.
 */

import type { KV } from '@nats-io/kv';
import { DEFAULT_STREAM_SETTINGS, ensureStream, NatsClient, openBucket, streamConfigs } from '@sb/messaging';
import { TaskStore } from './task-store';

export interface TaskInfraOptions {
  recordTtlMs: number;
  idempotencyTtlMs: number;
  replicas: number;
}

export class TaskInfrastructure {
  private taskStore?: TaskStore;
  private idemKv?: KV;
  private capsKv?: KV;

  constructor(
    private readonly client: NatsClient,
    private readonly opts: TaskInfraOptions,
  ) {}

  async open(): Promise<void> {
    const n = this.client.names;
    const streams = streamConfigs(n, { ...DEFAULT_STREAM_SETTINGS, replicas: this.opts.replicas });
    await Promise.all([ensureStream(this.client.jsm, streams.tasks), ensureStream(this.client.jsm, streams.deadLetters), ensureStream(this.client.jsm, streams.taskEvents)]);
    const [tasks, idem, caps] = await Promise.all([
      openBucket(this.client.kvm, n.buckets.tasks, { ttlMs: this.opts.recordTtlMs, replicas: this.opts.replicas }),
      openBucket(this.client.kvm, n.buckets.idempotency, { ttlMs: this.opts.idempotencyTtlMs, replicas: this.opts.replicas }),
      openBucket(this.client.kvm, n.buckets.capabilities, { replicas: this.opts.replicas }),
    ]);
    this.taskStore = new TaskStore(tasks);
    this.idemKv = idem;
    this.capsKv = caps;
  }

  get store(): TaskStore {
    if (!this.taskStore) throw new Error('task infrastructure not open');
    return this.taskStore;
  }
  get idempotency(): KV {
    if (!this.idemKv) throw new Error('task infrastructure not open');
    return this.idemKv;
  }
  get capabilities(): KV {
    if (!this.capsKv) throw new Error('task infrastructure not open');
    return this.capsKv;
  }
}
