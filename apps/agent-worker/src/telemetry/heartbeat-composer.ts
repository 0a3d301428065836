/**
 * What a worker says about itself: its registration, and each heartbeat (sequence number,
 * status, in-flight and capacity, CPU and memory, the tasks it holds). Pure; the telemetry
 * service sends what this builds.
 */
import type { AgentRegistration, Heartbeat, HeldTask, Labels } from '@sb/contracts';
import type { ProcessSample } from './process-stats';

export interface AgentIdentity {
  agentId: string;
  capabilities: string[];
  version: string;
  maxConcurrency: number;
  host: string;
  labels: Labels;
  heartbeatIntervalMs: number;
  startedAt: string;
}

export class HeartbeatComposer {
  private seq = 0;
  private draining = false;
  private last?: ProcessSample;

  constructor(private readonly id: AgentIdentity) {}

  registration(): AgentRegistration {
    return { ...this.id };
  }

  drain(): void {
    this.draining = true;
  }

  get lastSample(): ProcessSample | undefined {
    return this.last;
  }

  beat(tasks: HeldTask[], sample: ProcessSample, now: number): Heartbeat {
    this.last = sample;
    return {
      agentId: this.id.agentId,
      seq: this.seq++,
      sentAt: now,
      status: this.draining ? 'draining' : 'ready',
      inFlight: tasks.length,
      capacity: this.draining ? 0 : this.id.maxConcurrency,
      cpuPercent: sample.cpuPercent,
      memoryBytes: sample.memoryBytes,
      memoryPercent: sample.memoryPercent,
      tasks,
    };
  }
}

/** Beats between registration attempts after `failures` failed ones: 1, 2, 4 … 30. */
export function registerBackoffBeats(failures: number): number {
  return Math.min(30, 2 ** Math.min(failures, 5));
}
