/**
 * Reads and validates a fleet spec. Every problem is reported with the path of the field it
 * concerns (`spec.agentPools[1].scaling.maxReplicas: ...`), all at once.
 */
import { parseDocument } from 'yaml';
import { type FleetSpec, fleetSpecSchema, PLATFORM_SERVICES } from './fleet-spec.schema';
import { PLATFORM_TRAITS } from './platform-catalog';

/** The agent key an agent pool's workers register with (agent protocol v1). */
export const AGENT_KEY_ENV = 'SB_AGENT_KEY';
/** Variables that hold API keys. */
const KEY_ENVS = [AGENT_KEY_ENV, 'SB_BOOTSTRAP_ADMIN_KEY', 'SB_BOOTSTRAP_AGENT_KEY'];
/** A pool worker's identity as the generator sets it (agent id = pod name, registration labels with the pod uid). */
const RECOVERY_IDENTITY_ENVS = ['WORKER_ID', 'POD_UID', 'WORKER_LABELS'];

export class FleetSpecError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid fleet spec ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FleetSpecError';
  }
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/** Parses YAML text into a validated spec, or throws FleetSpecError naming each bad field. */
export function parseFleetSpec(text: string, source = 'fleet.yaml'): FleetSpec {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw new FleetSpecError(source, doc.errors.map((e) => `YAML: ${e.message}`));
  const parsed = fleetSpecSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new FleetSpecError(
      source,
      parsed.error.issues.map((i) => {
        const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
        return `${formatPath(i.path)}: ${i.message}${keys}`;
      }),
    );
  }
  const spec = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  spec.spec.agentPools.forEach((pool, i) => {
    if (seen.has(pool.name)) problems.push(`spec.agentPools[${i}].name: duplicate pool name "${pool.name}"`);
    seen.add(pool.name);
    if (new Set(pool.capabilities).size !== pool.capabilities.length) problems.push(`spec.agentPools[${i}].capabilities: duplicate capability`);
  });
  // `$(NAME)` in the Redis URL is expanded by Kubernetes only from variables defined in the same
  // container: every service that reads REDIS_URL must have NAME (usually a secret reference).
  const refs = [...spec.spec.redis.url.matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g)].map((m) => m[1]);
  for (const name of PLATFORM_SERVICES.filter((n) => PLATFORM_TRAITS[n].redis)) {
    const svc = spec.spec.services[name];
    const defined = new Set([...svc.secrets.map((r) => r.env), ...Object.keys(svc.env)]);
    for (const ref of refs) {
      if (!defined.has(ref)) problems.push(`spec.services.${name}.secrets: ${name} uses Redis, whose URL needs $(${ref}): add a secret reference (or env) named ${ref}`);
    }
  }
  // Agents register with an API key holding the agent scope; keys come from Secrets, never from plain env (the manifests would hold them).
  spec.spec.agentPools.forEach((pool, i) => {
    if (pool.enabled && !pool.secrets.some((r) => r.env === AGENT_KEY_ENV)) {
      problems.push(`spec.agentPools[${i}].secrets: agents register with an API key holding the agent scope: add a secret reference named ${AGENT_KEY_ENV}`);
    }
  });
  // Recovery's Kubernetes adapter acts only on pods of declared pools, identified by the agent id
  // (the pod name) and the pod uid the worker registers with: a pool must not replace those.
  if (spec.spec.recoveryRuntime.adapter === 'kubernetes') {
    if (!spec.spec.agentPools.some((p) => p.enabled)) problems.push('spec.recoveryRuntime.adapter: kubernetes needs at least one enabled agent pool (or use none)');
    spec.spec.agentPools.forEach((pool, i) => {
      for (const name of RECOVERY_IDENTITY_ENVS.filter((n) => n in pool.env)) {
        problems.push(`spec.agentPools[${i}].env.${name}: the generator sets it (recovery identifies a pool's pods by it); remove it`);
      }
    });
  }
  const workloads: Array<[string, Record<string, string>]> = [
    ...PLATFORM_SERVICES.map((n): [string, Record<string, string>] => [`spec.services.${n}`, spec.spec.services[n].env]),
    ...spec.spec.agentPools.map((p, i): [string, Record<string, string>] => [`spec.agentPools[${i}]`, p.env]),
  ];
  for (const [path, env] of workloads) {
    for (const name of Object.keys(env).filter((k) => KEY_ENVS.includes(k))) problems.push(`${path}.env.${name}: an API key belongs in a Secret: move it to secrets`);
  }
  if (problems.length > 0) throw new FleetSpecError(source, problems);
  return spec;
}
