/**
 * Idempotent creation of the streams and KV buckets a service needs. Every service calls
 * this for what it touches at boot, so start order never matters.
 */
import {
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { KV, Kvm } from '@nats-io/kv';
import { type Names, TERMINAL_STATUSES } from '@sb/contracts';

const NANOS_PER_MS = 1_000_000;

export interface StreamSettings {
  replicas: number;
  taskEventsMaxAgeMs: number;
  deadLetterMaxAgeMs: number;
  duplicateWindowMs: number;
}
export const DEFAULT_STREAM_SETTINGS: StreamSettings = {
  replicas: 1,
  taskEventsMaxAgeMs: 24 * 3600_000,
  deadLetterMaxAgeMs: 14 * 24 * 3600_000,
  duplicateWindowMs: 2 * 60_000,
};

export function streamConfigs(n: Names, s: StreamSettings = DEFAULT_STREAM_SETTINGS): Record<'tasks' | 'deadLetters' | 'taskEvents', Partial<StreamConfig> & { name: string }> {
  return {
    tasks: {
      name: n.queue.stream,
      subjects: [n.queue.all],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: s.replicas,
      duplicate_window: s.duplicateWindowMs * NANOS_PER_MS,
      discard: DiscardPolicy.Old,
    },
    deadLetters: {
      name: n.deadLetters.stream,
      subjects: [n.deadLetters.all],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: s.replicas,
      max_age: s.deadLetterMaxAgeMs * NANOS_PER_MS,
      duplicate_window: s.duplicateWindowMs * NANOS_PER_MS,
    },
    // Final outcomes are kept for replay; `queued`/`running` are live-only events, so a task
    // costs one stored event instead of three.
    taskEvents: {
      name: n.taskEvents.stream,
      subjects: [...TERMINAL_STATUSES].map((s) => n.tasks.eventsWithStatus(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: s.replicas,
      max_age: s.taskEventsMaxAgeMs * NANOS_PER_MS,
    },
  };
}

/** Create the stream, or update it to this config if it exists. */
export async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
    await jsm.streams.update(cfg.name, cfg);
  } catch (e) {
    if ((e as { code?: unknown; name?: string }).name === 'StreamNotFoundError' || /not found/i.test((e as Error).message)) {
      try {
        await jsm.streams.add(cfg);
      } catch (addErr) {
        // Another replica created it between our info and add.
        if (!/already in use|exists/i.test((addErr as Error).message)) throw addErr;
      }
      return;
    }
    throw e;
  }
}

export interface BucketOptions {
  ttlMs?: number;
  history?: number;
  replicas?: number;
}

export async function openBucket(kvm: Kvm, name: string, opts: BucketOptions = {}): Promise<KV> {
  return kvm.create(name, {
    history: opts.history ?? 1,
    replicas: opts.replicas ?? 1,
    ttl: opts.ttlMs ?? 0,
    storage: StorageType.File,
    allow_direct: true,
  });
}
