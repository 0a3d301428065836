/**
 * The tasks this worker holds right now (pulled and not yet settled), read-only to everyone but
 * the pull loop: heartbeats carry them so that recovery can hand a dead worker's tasks back
 * at once. A message is parsed only if it is still held when a heartbeat asks (most tasks
 * finish between two beats), and at most once.
 */
import { type HeldTask, Headers, PRIORITIES, type Priority } from '@sb/contracts';
import { type PulledMessage, tryDecode } from '@sb/messaging';

interface Entry {
  msg: PulledMessage;
  startedAt: string;
  task?: HeldTask | null;
}

export class HeldTasks {
  private readonly held = new Set<Entry>();
  private idleWaiters: Array<() => void> = [];

  get size(): number {
    return this.held.size;
  }

  /** Runs `run` with `msg` counted as held until it settles. */
  async track(msg: PulledMessage, run: () => Promise<void>, now: Date = new Date()): Promise<void> {
    const e: Entry = { msg, startedAt: now.toISOString() };
    this.held.add(e);
    try {
      await run();
    } finally {
      this.held.delete(e);
      if (this.held.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Every held task that could be read, for a heartbeat. */
  list(): HeldTask[] {
    const out: HeldTask[] = [];
    for (const e of this.held) {
      if (e.msg.isSettled) continue;
      if (e.task === undefined) e.task = describe(e.msg, e.startedAt);
      if (e.task) out.push(e.task);
    }
    return out;
  }

  /** Resolves true once nothing is held, false after `ms`. */
  whenEmpty(ms: number): Promise<boolean> {
    if (this.held.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }
}

/** `<prefix>.q.<capability>.<priority>` and the task body's ids; null when unreadable (the executor terminates those). */
function describe(msg: PulledMessage, startedAt: string): HeldTask | null {
  const parts = msg.subject.split('.');
  const capability = parts[parts.length - 2];
  const priority = parts[parts.length - 1] as Priority;
  const body = tryDecode(msg.data) as { taskId?: unknown; tenantId?: unknown } | undefined;
  const taskId = typeof body?.taskId === 'string' ? body.taskId : msg.headers?.get(Headers.TaskId);
  if (!taskId || typeof body?.tenantId !== 'string' || !capability) return null;
  return {
    taskId: taskId.slice(0, 64),
    tenantId: body.tenantId.slice(0, 64),
    capability,
    priority: PRIORITIES.includes(priority) ? priority : undefined,
    attempt: msg.info.deliveryCount,
    ackSubject: msg.msg.reply,
    startedAt,
  };
}
