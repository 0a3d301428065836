/**
 * Which capabilities the fleet has ever offered. Workers register theirs in a KV bucket; the
 * gateway keeps a live copy by watching it, and asks the bucket directly on a miss (a worker
 * that registered a moment ago). A capability with no live worker is still known: its tasks
 * queue until a worker comes back.
 */
import { type KV, KvWatchInclude } from '@nats-io/kv';

export class CapabilityCatalog {
  private readonly known = new Set<string>();
  private stopWatch?: () => void;

  constructor(private readonly kv: KV) {}

  async start(): Promise<void> {
    const watch = await this.kv.watch({ include: KvWatchInclude.LastValue });
    this.stopWatch = () => watch.stop();
    void (async () => {
      for await (const e of watch) {
        if (e.operation === 'PUT') this.known.add(e.key);
        else this.known.delete(e.key);
      }
    })().catch(() => undefined);
  }

  async has(capability: string): Promise<boolean> {
    if (this.known.has(capability)) return true;
    const e = await this.kv.get(capability);
    if (e && e.operation === 'PUT') {
      this.known.add(capability);
      return true;
    }
    return false;
  }

  list(): string[] {
    return [...this.known].sort();
  }

  stop(): void {
    this.stopWatch?.();
  }
}
