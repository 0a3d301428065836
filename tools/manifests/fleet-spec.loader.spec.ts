import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { FleetSpecError, parseFleetSpec } from './fleet-spec.loader';

const EXAMPLE = readFileSync(join(__dirname, '../../deploy/fleet.yaml'), 'utf8');

/** The example spec with one change applied to its parsed form. */
function variant(change: (doc: any) => void): string {
  const doc = parse(EXAMPLE);
  change(doc);
  return stringify(doc);
}

function problemsOf(text: string): string[] {
  try {
    parseFleetSpec(text, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(FleetSpecError);
    return (e as FleetSpecError).problems;
  }
  throw new Error('expected the spec to be rejected');
}

describe('fleet spec', () => {
  it('accepts the example and fills defaults', () => {
    const spec = parseFleetSpec(EXAMPLE);
    expect(spec.spec.agentPools.map((p) => p.name)).toEqual(['general', 'chaos']);
    expect(spec.spec.services.auth.routing.timeout).toBe('15s');
    expect(spec.spec.services.gateway.env.TENANT_SUBMIT_RATE).toBe('1000');
  });

  it('names an unknown (misspelt) field', () => {
    const problems = problemsOf(variant((d) => (d.spec.services.gateway.replicsa = 3)));
    expect(problems).toEqual([expect.stringMatching(/^spec\.services\.gateway: .*replicsa/)]);
  });

  it('names a bad quantity inside an agent pool', () => {
    const problems = problemsOf(variant((d) => (d.spec.agentPools[1].resources = { requests: { cpu: 'lots', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })));
    expect(problems).toEqual([expect.stringMatching(/^spec\.agentPools\[1\]\.resources\.requests\.cpu: expected a Kubernetes quantity/)]);
  });

  it('names scaling bounds that contradict each other', () => {
    const problems = problemsOf(variant((d) => (d.spec.services.gateway.scaling.maxReplicas = 1)));
    expect(problems).toEqual(['spec.services.gateway.scaling.maxReplicas: maxReplicas must be >= minReplicas']);
  });

  it('names a missing platform service, a bad capability and a bad load-balancer policy at once', () => {
    const problems = problemsOf(
      variant((d) => {
        delete d.spec.services.tenancy;
        d.spec.agentPools[0].capabilities = ['Echo'];
        d.spec.services.auth.loadBalancer = { policy: 'FASTEST' };
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spec\.services\.tenancy: /),
        expect.stringMatching(/^spec\.agentPools\[0\]\.capabilities\[0\]: expected a capability/),
        expect.stringMatching(/^spec\.services\.auth\.loadBalancer\.policy: /),
      ]),
    );
  });

  it('rejects duplicate pool names and a secret reference without a key', () => {
    expect(problemsOf(variant((d) => (d.spec.agentPools[1].name = 'general')))).toEqual(['spec.agentPools[1].name: duplicate pool name "general"']);
    expect(problemsOf(variant((d) => (d.spec.services.auth.secrets = [{ env: 'SB_BOOTSTRAP_ADMIN_KEY', secretName: 'switchboard-auth' }])))).toEqual([
      expect.stringMatching(/^spec\.services\.auth\.secrets\[0\]\.key: /),
    ]);
  });

  it('wants every enabled agent pool to register with an agent key from a Secret, and no key in plain env', () => {
    expect(problemsOf(variant((d) => delete d.spec.agentPools[1].secrets))).toEqual([
      'spec.agentPools[1].secrets: agents register with an API key holding the agent scope: add a secret reference named SB_AGENT_KEY',
    ]);
    expect(() => parseFleetSpec(variant((d) => Object.assign(d.spec.agentPools[1], { enabled: false, secrets: [] })))).not.toThrow();
    expect(
      problemsOf(
        variant((d) => {
          d.spec.agentPools[0].env = { SB_AGENT_KEY: 'sb_agent_leaked' };
          d.spec.services.auth.env = { SB_BOOTSTRAP_AGENT_KEY: 'sb_agent_leaked' };
        }),
      ),
    ).toEqual([
      'spec.services.auth.env.SB_BOOTSTRAP_AGENT_KEY: an API key belongs in a Secret: move it to secrets',
      'spec.agentPools[0].env.SB_AGENT_KEY: an API key belongs in a Secret: move it to secrets',
    ]);
  });

  it('reports YAML syntax errors and a wrong kind', () => {
    expect(problemsOf('spec: [unclosed')[0]).toMatch(/^YAML: /);
    expect(problemsOf(EXAMPLE.replace('kind: Fleet', 'kind: Flete'))).toEqual([expect.stringMatching(/^kind: /)]);
  });

  it('puts the source name and every problem in the message', () => {
    expect(() => parseFleetSpec(variant((d) => (d.spec.jetstreamReplicas = 9)), 'fleet.yaml')).toThrow(/Invalid fleet spec fleet\.yaml:\n {2}- spec\.jetstreamReplicas: /);
  });
});
