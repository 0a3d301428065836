import type { FunctionMetrics } from './types';

/** The `n` most complex functions, in source order. */
export function mostComplex(functions: FunctionMetrics[], n: number): FunctionMetrics[] {
  if (functions.length <= n) return functions;
  return [...functions]
    .sort((a, b) => b.complexity - a.complexity || a.line - b.line)
    .slice(0, n)
    .sort((a, b) => a.line - b.line);
}
