/**
 * Every agent this worker can host, by the name used in its configuration (WORKER_AGENTS).
 * Test agents exist to exercise timeouts, cancellation and retries; they load only when test
 * agents are enabled. Each is a plain agent of the SDK (@switchboard/agent-sdk), exactly as a
 * user's own agent would be.
 */
import type { Agent } from '@switchboard/agent-sdk';
import { CodeAnalysisAgent } from './code-analysis/code-analysis.agent';
import { EchoAgent } from './echo.agent';
import { FlakyAgent } from './flaky.agent';
import { SleepAgent } from './sleep.agent';

export interface CatalogEntry {
  create(): Agent;
  /** Only for tests and demos; refused unless test agents are enabled. */
  testOnly: boolean;
}

export const AGENT_CATALOG: ReadonlyMap<string, CatalogEntry> = new Map<string, CatalogEntry>([
  ['echo', { create: () => new EchoAgent(), testOnly: false }],
  ['code-analysis', { create: () => new CodeAnalysisAgent(), testOnly: false }],
  ['sleep', { create: () => new SleepAgent(), testOnly: true }],
  ['flaky', { create: () => new FlakyAgent(), testOnly: true }],
]);

/** The configured agents, each once, in the order named; an unknown name, or a test agent while they are off, throws. */
export function agentsFromConfig(names: readonly string[], opts: { testAgents: boolean }): Agent[] {
  const out: Agent[] = [];
  for (const name of new Set(names)) {
    const entry = AGENT_CATALOG.get(name);
    if (!entry) throw new Error(`Unknown agent "${name}"; known agents: ${[...AGENT_CATALOG.keys()].sort().join(', ')}`);
    if (entry.testOnly && !opts.testAgents) throw new Error(`Agent "${name}" is a test agent; enable test agents to load it`);
    out.push(entry.create());
  }
  if (!out.length) throw new Error('No agents configured (WORKER_AGENTS)');
  return out;
}
