import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentIdProblem, agentSubjects } from './protocol';
import { backoffMs } from './util';

describe('protocol', () => {
  it('builds every subject of one agent under the prefix', () => {
    const s = agentSubjects('sb', 'summarizer-1');
    expect(s).toMatchObject({
      register: 'sb.v1.agents.register',
      deregister: 'sb.v1.agents.deregister',
      heartbeat: 'sb.v1.agents.heartbeat.summarizer-1',
      take: 'sb.v1.agents.summarizer-1.take',
      abort: 'sb.v1.agents.summarizer-1.abort',
      reregister: 'sb.internal.fleet.reregister.summarizer-1',
    });
    expect(s.onLease('complete', 'gw-7')).toBe('sb.v1.agents.summarizer-1.complete.gw-7');
    expect(s.liveness('left')).toBe('sb.v1.agents.summarizer-1.left');
  });

  it('accepts agent ids of the safe alphabet that are not reserved words', () => {
    expect(agentIdProblem('worker_1-a')).toBeUndefined();
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(65), 'a*']) expect(agentIdProblem(bad)).toMatch(/1-64 characters/);
    for (const reserved of ['take', 'abort', 'up', 'heartbeat', 'fleet']) expect(agentIdProblem(reserved)).toMatch(/reserved/);
  });
});

describe('backoffMs', () => {
  it('grows from the base to the cap, with jitter in the upper half', () => {
    expect(backoffMs(1, 100, 5_000, () => 0)).toBe(50);
    expect(backoffMs(1, 100, 5_000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 5_000, () => 1)).toBe(400);
    expect(backoffMs(50, 100, 5_000, () => 1)).toBe(5_000);
  });
});

describe('the package', () => {
  const dir = __dirname;
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !/[.-]spec\.ts$/.test(f));

  it("speaks only the public protocol: imports nothing of the repository's libs or apps", () => {
    for (const f of sources) {
      const text = readFileSync(join(dir, f), 'utf8');
      const specifiers = [...text.matchAll(/(?:from|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const spec of specifiers) {
        const ok = spec.startsWith('./') || spec.startsWith('node:') || spec === '@nats-io/nats-core' || spec === '@nats-io/transport-node';
        expect({ file: f, spec, ok }).toEqual({ file: f, spec, ok: true });
      }
    }
  });

  it('declares exactly the dependencies it imports', () => {
    const pkg = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; main: string; types: string };
    expect(pkg.name).toBe('@switchboard/agent-sdk');
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@nats-io/nats-core', '@nats-io/transport-node']);
    expect([pkg.main, pkg.types]).toEqual(['dist/index.js', 'dist/index.d.ts']);
  });
});
