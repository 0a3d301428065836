/**
 * The agent registry snapshot in the `agents` KV bucket: one record per agent, written on
 * registration and departure. Every collector replica watches the bucket, so a registration
 * served by one replica is known to all, and a restarted collector starts from the snapshot.
 */
import type { KV } from '@nats-io/kv';
import { tryDecode } from '@sb/messaging';
import { type AgentRegistration, AgentRegistrationSchema } from '@sb/contracts';
import { isWrongRevision } from '@sb/tasks';
import { z } from 'zod';

export interface RegistryRecord {
  registration: AgentRegistration;
  registeredAt: number;
  left: boolean;
  /** The hash of the agent's session (agent protocol v1); the secret itself is never stored. */
  sessionHash?: string;
  /** The agent key it registered with: what the per-key agent limit counts. */
  keyId?: string;
  /**
   * When it left or was declared down (collector clock, ms): how long it is kept counts from here,
   * also on a collector that restarted since. Absent: still up, or recorded before this field existed.
   */
  goneAt?: number;
}

const RecordSchema = z.object({
  registration: AgentRegistrationSchema,
  registeredAt: z.number(),
  left: z.boolean().default(false),
  sessionHash: z.string().optional(),
  keyId: z.string().max(64).optional(),
  goneAt: z.number().optional(),
});

/** A record as read, with the revision a compare-and-set names (`record` undefined: not a record this version reads). */
export interface StoredRecord {
  record: RegistryRecord | undefined;
  revision: number;
}

export interface RegistryStorePort {
  put(rec: RegistryRecord): Promise<void>;
  delete(agentId: string): Promise<void>;
  /** The agent's record as stored now (any replica may have registered it); undefined when there is none. */
  read(agentId: string): Promise<StoredRecord | undefined>;
  /**
   * Write `rec` only if the agent's record is still the one read at `revision` (undefined: there
   * was none): false when another registration came first. Registrations are serialized here.
   */
  putIf(rec: RegistryRecord, revision: number | undefined): Promise<boolean>;
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

  async read(agentId: string): Promise<StoredRecord | undefined> {
    const e = await this.kv.get(agentId);
    if (!e || e.operation !== 'PUT') return undefined;
    const parsed = RecordSchema.safeParse(tryDecode(e.string()));
    return { record: parsed.success ? parsed.data : undefined, revision: e.revision };
  }

  async putIf(rec: RegistryRecord, revision: number | undefined): Promise<boolean> {
    const data = JSON.stringify(rec);
    try {
      // create() also takes the place of a deleted record.
      if (revision === undefined) await this.kv.create(rec.registration.agentId, data);
      else await this.kv.update(rec.registration.agentId, data, revision);
      return true;
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw err;
    }
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

