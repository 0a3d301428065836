/**
 * The agent registry snapshot in the `agents` KV bucket: one record per agent, written on
 * registration and departure. Every collector replica watches the bucket, so a registration
 * served by one replica is known to all, and a restarted collector starts from the snapshot.
 */
import type { KV } from '@nats-io/kv';
import { tryDecode } from '@sb/messaging';
import { type AgentRegistration, AgentRegistrationSchema } from '@sb/contracts';
import { z } from 'zod';

export interface RegistryRecord {
  registration: AgentRegistration;
  registeredAt: number;
  left: boolean;
  /** The hash of the agent's session (agent protocol v1); the secret itself is never stored. */
  sessionHash?: string;
}

const RecordSchema = z.object({ registration: AgentRegistrationSchema, registeredAt: z.number(), left: z.boolean().default(false), sessionHash: z.string().optional() });

export interface RegistryStorePort {
  put(rec: RegistryRecord): Promise<void>;
  delete(agentId: string): Promise<void>;
  /** The stored record's session hash (any replica may have registered the agent). */
  sessionHash(agentId: string): Promise<string | undefined>;
}

export class KvRegistryStore implements RegistryStorePort {
  private stopped = false;
  private iter?: { stop(): void };

  constructor(private readonly kv: KV) {}

  async put(rec: RegistryRecord): Promise<void> {
    await this.kv.put(rec.registration.agentId, JSON.stringify(rec));
  }

  async delete(agentId: string): Promise<void> {
    await this.kv.delete(agentId);
  }

  async sessionHash(agentId: string): Promise<string | undefined> {
    const e = await this.kv.get(agentId);
    if (!e || e.operation !== 'PUT') return undefined;
    const parsed = RecordSchema.safeParse(tryDecode(e.string()));
    return parsed.success && !parsed.data.left ? parsed.data.sessionHash : undefined;
  }

  /** Current records first, then every change, until `stop()`. Resolves once the current records were delivered. */
  async watch(onPut: (rec: RegistryRecord) => void, onDelete: (agentId: string) => void): Promise<void> {
    const iter = await this.kv.watch();
    this.iter = iter;
    let initial = true;
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (markReady = r));
    const status = await this.kv.status();
    if (status.values === 0) {
      initial = false;
      markReady();
    }
    void (async () => {
      for await (const e of iter) {
        if (this.stopped) break;
        if (e.operation === 'PUT') {
          const parsed = RecordSchema.safeParse(tryDecode(e.string()));
          if (parsed.success) onPut(parsed.data);
        } else {
          onDelete(e.key);
        }
        if (initial && e.delta === 0) {
          initial = false;
          markReady();
        }
      }
      markReady();
    })();
    await ready;
  }

  stop(): void {
    this.stopped = true;
    this.iter?.stop();
  }
}

