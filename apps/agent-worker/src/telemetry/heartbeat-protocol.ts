/** What the main loop and the heartbeat thread (heartbeat-thread.ts) say to each other. Types only. */
import type { Heartbeat } from '@sb/contracts';

/** The thread's `workerData`. */
export interface ThreadOptions {
  natsServers: string[];
  name: string;
  subject: string;
  intervalMs: number;
  stallMs: number;
  memoryLimitBytes: number;
}

/** A message to publish as JSON on the thread's connection. */
export interface OutgoingMessage {
  subject: string;
  data: unknown;
}

/** Main loop → thread: the latest heartbeat (`now`: send it at once), or stop after sending `last`. */
export type ToThread = { type: 'update'; hb: Heartbeat; now: boolean } | { type: 'close'; last?: OutgoingMessage[] };

/** Thread → main loop: connected, could not connect, or closed after `close`. */
export type FromThread = { type: 'ready' } | { type: 'failed'; error: string } | { type: 'closed' };
