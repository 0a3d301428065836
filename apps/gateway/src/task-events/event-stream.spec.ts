import type { TaskEvent } from '@sb/contracts';
import { type SseSink, TaskEventStream, type Timers } from './event-stream';

class FakeSink implements SseSink {
  chunks: string[] = [];
  full = false;
  ended = false;
  private drain?: () => void;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  onDrain(cb: () => void): void {
    this.drain = cb;
  }
  end(): void {
    this.ended = true;
  }
  emitDrain(): void {
    this.full = false;
    this.drain?.();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

class ManualTimers implements Timers {
  ticks: Array<() => void> = [];
  cleared = 0;
  setInterval(cb: () => void): unknown {
    this.ticks.push(cb);
    return this.ticks.length - 1;
  }
  clearInterval(): void {
    this.cleared++;
  }
}

const ev = (over: Partial<TaskEvent> = {}): TaskEvent => ({ taskId: 't1', tenantId: 'a', status: 'succeeded', capability: 'echo', agentId: 'w1', attempts: 1, at: '2026-01-01T00:00:00.000Z', ...over });

describe('TaskEventStream', () => {
  it('frames events as SSE with increasing ids and JSON data', () => {
    const sink = new FakeSink();
    const s = new TaskEventStream(sink, {}, new ManualTimers(), 15_000);
    s.push(ev({ taskId: 'a1' }));
    s.push(ev({ taskId: 'a2', status: 'running' }));
    expect(sink.text).toContain('retry: 2000\n');
    const frames = sink.text.split('\n\n').filter((f) => f.startsWith('id:'));
    expect(frames).toHaveLength(2);
    expect(frames[0]).toBe(`id: 1\nevent: task\ndata: ${JSON.stringify(ev({ taskId: 'a1' }))}`);
    expect(frames[1]).toMatch(/^id: 2\nevent: task\ndata: .*"taskId":"a2"/);
  });

  it('applies the status, capability and task filters', () => {
    const sink = new FakeSink();
    const s = new TaskEventStream(sink, { statuses: new Set(['failed', 'succeeded'] as const), capability: 'echo', taskId: 'x' }, new ManualTimers(), 15_000);
    expect(s.push(ev({ taskId: 'x', status: 'running' }))).toBe(false);
    expect(s.push(ev({ taskId: 'x', capability: 'other' }))).toBe(false);
    expect(s.push(ev({ taskId: 'y' }))).toBe(false);
    expect(s.push(ev({ taskId: 'x', status: 'failed' }))).toBe(true);
    expect(sink.text.match(/event: task/g)).toHaveLength(1);
  });

  it('drops events while the socket is backed up and reports how many once it drains', () => {
    const sink = new FakeSink();
    const s = new TaskEventStream(sink, {}, new ManualTimers(), 15_000);
    sink.full = true;
    expect(s.push(ev({ taskId: 'first' }))).toBe(true); // accepted by the socket, which is now full
    expect(s.push(ev({ taskId: 'lost1' }))).toBe(false);
    expect(s.push(ev({ taskId: 'lost2' }))).toBe(false);
    expect(s.droppedCount).toBe(2);
    sink.emitDrain();
    expect(sink.text).toContain('event: overflow\ndata: {"missed":2}\n\n');
    expect(sink.text).not.toContain('lost1');
    expect(s.push(ev({ taskId: 'after' }))).toBe(true);
    expect(sink.text).toContain('"taskId":"after"');
  });

  it('sends keep-alive comments and stops everything on close', () => {
    const sink = new FakeSink();
    const timers = new ManualTimers();
    const s = new TaskEventStream(sink, {}, timers, 15_000);
    timers.ticks[0]!();
    expect(sink.text).toContain(': keep-alive\n\n');
    s.close();
    s.close();
    expect(timers.cleared).toBe(1);
    expect(sink.ended).toBe(true);
    expect(s.push(ev())).toBe(false);
  });
});
