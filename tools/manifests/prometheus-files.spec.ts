/**
 * `promtool check config` and `promtool check rules` on the generated Prometheus files (compose
 * prometheus.yml + rules.yml, and the PrometheusRule's groups). .ci/run installs promtool
 * (Debian's `prometheus` package); without it locally these tests are skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleetSpec } from './fleet-spec.loader';
import { generateManifests, toYaml } from './manifest.generator';
import { writeManifests } from './manifest.writer';
import { prometheusRuleOf } from './monitoring.builder';

function findPromtool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin', '/usr/local/bin')) {
    if (dir && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool');
  }
  return undefined;
}

const promtool = findPromtool();
const spec = parseFleetSpec(readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8'));
const run = (...args: string[]) => execFileSync(promtool!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

if (!promtool) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED promtool checks: promtool is not installed (apt-get install prometheus; .ci/run installs it)');
}
const maybe = promtool ? describe : describe.skip;

maybe(`promtool on the generated Prometheus files${promtool ? '' : ' (SKIPPED: promtool not installed)'}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-prom-'));
    writeManifests(dir, generateManifests(spec));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts prometheus.yml (which loads rules.yml)', () => {
    expect(run('check', 'config', join(dir, 'prometheus/prometheus.yml'))).toMatch(/SUCCESS/);
  });

  it('accepts rules.yml', () => {
    expect(run('check', 'rules', join(dir, 'prometheus/rules.yml'))).toMatch(/SUCCESS: 13 rules found/);
  });

  it("accepts the PrometheusRule's groups", () => {
    const file = join(dir, 'prometheusrule-groups.yml');
    writeFileSync(file, toYaml(prometheusRuleOf(spec).spec));
    expect(run('check', 'rules', file)).toMatch(/SUCCESS/);
  });

  it('rejects a broken rule (the check is real)', () => {
    const file = join(dir, 'broken.yml');
    writeFileSync(file, toYaml({ groups: [{ name: 'x', rules: [{ alert: 'X', expr: 'sum(rate(up[5m]' }] }] }));
    expect(() => run('check', 'rules', file)).toThrow();
  });
});
