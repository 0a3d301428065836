/**
 * Every agent this worker can host, by the name used in its configuration (WORKER_AGENTS).
 * Test agents exist to exercise timeouts, cancellation and retries; they load only when test
 * agents are enabled.
 */
import type { Agent } from './agent';
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
