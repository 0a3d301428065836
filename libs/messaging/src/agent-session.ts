/**
 * Agent sessions (docs/agent-protocol.md, Identity): `register` answers with a random secret
 * bound to the agent id; the registry keeps only its hash; every later message of the agent
 * carries the secret in `Sb-Agent-Session`, and the control plane compares hashes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newAgentSession(): string {
  return `sbs_${randomBytes(24).toString('base64url')}`;
}

export function hashAgentSession(session: string): string {
  return createHash('sha256').update(session).digest('base64url');
}

/** Whether `session` is the one whose hash is `hash` (constant-time). */
export function agentSessionMatches(session: string | undefined, hash: string | undefined): boolean {
  if (!session || !hash) return false;
  const a = Buffer.from(hashAgentSession(session));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}
