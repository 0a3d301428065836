/**
 * The deployment as shipped, in containers: images built from deploy/Dockerfile, the whole of
 * docker-compose.yml up (NATS in operator mode with nats-init's credentials, Redis, the seven
 * services, two agent workers, Prometheus with the generated config and rules), driven only from
 * outside as a user would: the published gateway port, the loopback NATS port with a tenant's
 * credentials, Prometheus' API, and the engine (inspect, kill). Torn down at the end, pass or fail.
 *
 * Run with `npm run test:containers` (docs/containers.md: what it needs, what it checks, how long
 * it takes). Not part of `npm test`: it builds images and needs a container engine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { credsAuthenticator, headers } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { generateApiKey } from '@sb/contracts/api-key-format';
import { eventually } from '@sb/testing';
import { findFreePort } from '@sb/testing/net-probes';
import { call, prom, tenantWithKey } from './support/api';
import { Shell } from './support/shell';
import { composeServices, detectEngine, ROOT, snapshotWorkTree, Stack } from './support/stack';

jest.setTimeout(20 * 60_000);

const PROJECT = process.env.SB_CT_PROJECT ?? 'sbct';
/** The Switchboard services: each runs as its own user (compose `user:`), read-only, no capabilities. */
const APP_SERVICES = ['gateway', 'auth', 'tenancy', 'metrics-collector', 'alerting', 'recovery', 'agent-worker'];
const SERVICES = ['nats-init', 'nats', 'redis', ...APP_SERVICES, 'prometheus'];
/** Where each service serves /metrics inside the compose network (the gateway: its ops port). */
const METRICS_PORT: Record<string, number> = { gateway: 8090, auth: 8081, tenancy: 8082, 'metrics-collector': 8083, alerting: 8084, recovery: 8085, 'agent-worker': 8086 };
const GENERATED_PROMETHEUS = join(ROOT, 'deploy/generated/prometheus');
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

const timings: Record<string, number> = {};
async function timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    timings[phase] = Math.round((Date.now() - t0) / 1000);
  }
}

describe('docker-compose.yml in containers', () => {
  const logDir = mkdtempSync(join(tmpdir(), 'sb-containers-'));
  const sh = new Shell(logDir);
  const adminKey = generateApiKey();
  let stack: Stack;
  let gateway: string;
  let natsUrl: string;
  let prometheus: string;
  const started = Date.now();

  beforeAll(async () => {
    const engine = await detectEngine();
    const [gatewayPort, natsPort, promPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    gateway = `http://127.0.0.1:${gatewayPort}`;
    natsUrl = `nats://127.0.0.1:${natsPort}`;
    prometheus = `http://127.0.0.1:${promPort}`;
    // The generated scrape config and rules, plus the test's rule (compose.test.yml says why).
    const promConfig = parse(readFileSync(join(GENERATED_PROMETHEUS, 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    promConfig.rule_files.push('/etc/prometheus-test/worker-lost.rules.yml');
    mkdirSync(join(logDir, 'prometheus'));
    const promConfigFile = join(logDir, 'prometheus', 'prometheus.yml');
    writeFileSync(promConfigFile, stringify(promConfig));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SB_BOOTSTRAP_ADMIN_KEY: adminKey,
      SB_BOOTSTRAP_AGENT_KEY: generateApiKey(),
      GRAFANA_ADMIN_PASSWORD: generateApiKey(),
      SB_GATEWAY_PORT: String(gatewayPort),
      SB_NATS_PORT: String(natsPort),
      SB_PROMETHEUS_PORT: String(promPort),
      SB_CT_PROMETHEUS_CONFIG: promConfigFile,
      // The sleep agent holds tasks long enough to kill a worker that has them.
      WORKER_AGENTS: 'echo,code-analysis,sleep',
      WORKER_TEST_AGENTS: 'true',
      // podman: keep HEALTHCHECK and the other Docker-only instructions in the images.
      BUILDAH_FORMAT: 'docker',
    };
    // eslint-disable-next-line no-console
    console.log(`[containers] ${engine}; commands and container logs in ${logDir}`);
    const tree = await snapshotWorkTree(sh, join(logDir, 'tree'));
    stack = new Stack(tree, engine, PROJECT, env, sh);
    await stack.down(); // leftovers of an interrupted run
    await timed('base images', () => sh.run(join(tree, 'deploy/base/build-base.sh'), [], { env, timeoutMs: 900_000 }));
    await timed('build', () => stack.build(SERVICES));
    await timed('up', () => stack.up(SERVICES));
  }, 60 * 60_000);

  afterAll(async () => {
    try {
      await stack?.saveLogs();
    } finally {
      await timed('down', async () => stack?.down());
      // eslint-disable-next-line no-console
      console.log(`[containers] ${Math.round((Date.now() - started) / 1000)} s in all; by phase (s): ${JSON.stringify(timings)}; logs: ${logDir}`);
    }
  }, 10 * 60_000);

  it('runs every service in a container of its own, each passing its health check', async () => {
    const names = await stack.containers(undefined, false);
    for (const service of SERVICES.filter((s) => s !== 'nats-init')) {
      const mine = await stack.containers(service, false);
      expect({ service, running: mine.length }).toEqual({ service, running: service === 'agent-worker' ? 2 : 1 });
    }
    const verdicts = await Promise.all(names.map(async (n) => [n, await stack.healthy(n)] as const));
    expect(verdicts.filter(([, ok]) => !ok)).toEqual([]);
    // The one-shot made the credentials and finished.
    const [init] = await stack.containers('nats-init');
    expect((await stack.inspect(init)).State).toEqual(expect.objectContaining({ Status: 'exited', ExitCode: 0 }));
  });

  it('runs each service as its own non-root user, with a read-only root filesystem and no capabilities', async () => {
    const users = composeServices();
    for (const service of [...APP_SERVICES, 'redis', 'prometheus', 'nats']) {
      for (const name of await stack.containers(service, false)) {
        const info = await stack.inspect(name);
        expect({ name, readOnly: info.HostConfig.ReadonlyRootfs }).toEqual({ name, readOnly: true });
        const procs = processTree(info.State.Pid);
        expect(procs.length).toBeGreaterThan(0);
        if (service === 'nats') continue; // root by design (docker-compose.yml: it reads root's auth.conf), still read-only
        const expected = APP_SERVICES.includes(service) ? Number(users[service].user!.split(':')[0]) : undefined;
        for (const p of procs) {
          expect({ name, pid: p.pid, root: p.uid === 0 }).toEqual({ name, pid: p.pid, root: false });
          if (expected !== undefined) {
            expect({ name, uid: p.uid, capEff: p.capEff }).toEqual({ name, uid: expected, capEff: 0n });
          }
        }
        if (APP_SERVICES.includes(service)) {
          // Not just a flag: the code can't be written over, /tmp (a tmpfs) can be written.
          const write = await stack.exec(name, ['sh', '-c', 'echo x > /app/dist/probe'], true);
          expect({ name, failed: write.code !== 0, readOnly: /read-only/i.test(write.stderr) }).toEqual({ name, failed: true, readOnly: true });
          expect((await stack.exec(name, ['sh', '-c', 'echo x > /tmp/probe && rm /tmp/probe'])).code).toBe(0);
        }
      }
    }
  });

  let tenantKey: string;

  it('answers a task submitted over HTTP on the published gateway port', async () => {
    ({ key: tenantKey } = await tenantWithKey(gateway, adminKey, 'acme'));
    const echo = await call(gateway, 'POST', '/v1/tasks', { key: tenantKey, body: { capability: 'echo', input: { hi: 1 }, wait: true } });
    expect(echo.body).toEqual(expect.objectContaining({ status: 'succeeded', result: { echo: { hi: 1 } } }));
    const analysis = await call(gateway, 'POST', '/v1/tasks', {
      key: tenantKey,
      body: { capability: 'code-analysis', input: '```python\ndef f(x):\n    return x if x else 0\n```', wait: true },
    });
    expect(analysis.body).toEqual(expect.objectContaining({ status: 'succeeded' }));
  });

  it("answers a task submitted over NATS with the tenant's credentials, on its private inbox", async () => {
    const creds = await call(gateway, 'POST', '/v1/nats/credentials', { key: tenantKey });
    expect(creds.status).toBe(201);
    const inboxPrefix = creds.headers.get('sb-inbox-prefix')!;
    expect(inboxPrefix).toBeTruthy();
    const nc = await connect({ servers: natsUrl, authenticator: credsAuthenticator(new TextEncoder().encode(String(creds.body))), inboxPrefix });
    try {
      const h = headers();
      h.set('Authorization', `Bearer ${tenantKey}`);
      const reply = await nc.request('sb.v1.tasks.submit', JSON.stringify({ capability: 'echo', input: { over: 'nats' }, wait: true }), { headers: h, timeout: 45_000 });
      expect(reply.json()).toEqual(expect.objectContaining({ status: 'succeeded', result: { echo: { over: 'nats' } } }));
    } finally {
      await nc.close();
    }
    // Without credentials the server refuses the connection (operator mode).
    await expect(connect({ servers: natsUrl, timeout: 5_000 })).rejects.toThrow(/authorization|auth/i);
  });

  it('serves /metrics from every service that passes promtool check metrics', async () => {
    if (!promtool) {
      // eslint-disable-next-line no-console
      console.warn('SKIPPED promtool check metrics: promtool is not installed');
      return;
    }
    for (const service of APP_SERVICES) {
      const [name] = await stack.containers(service, false);
      const script = `fetch('http://127.0.0.1:${METRICS_PORT[service]}/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const { stdout } = await stack.exec(name, ['node', '-e', script]);
      expect(stdout).toContain('process_cpu_seconds_total');
      const lint = spawnSync(promtool, ['check', 'metrics'], { input: stdout, encoding: 'utf8' });
      expect({ service, status: lint.status, problems: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ service, status: 0, problems: '' });
    }
  });

  it('has Prometheus scrape every service and load every generated alert rule', async () => {
    const generated = parse(readFileSync(join(GENERATED_PROMETHEUS, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] };
    const jobs = generated.scrape_configs.map((j) => j.job_name).sort();
    await eventually(async () => {
      const { activeTargets } = await prom<{ activeTargets: { labels: { job: string }; health: string; lastError: string }[] }>(prometheus, '/api/v1/targets?state=active');
      const up = activeTargets.filter((t) => t.health === 'up');
      const byJob = (job: string) => up.filter((t) => t.labels.job === job).length;
      expect({ jobs: [...new Set(up.map((t) => t.labels.job))].sort(), workers: byJob('agent-worker'), down: activeTargets.filter((t) => t.health !== 'up').map((t) => `${t.labels.job}: ${t.lastError}`) })
        .toEqual({ jobs, workers: 2, down: [] });
      return true;
    }, { timeoutMs: 180_000, intervalMs: 5_000, description: 'every scrape target up' });

    const rulesFile = parse(readFileSync(join(GENERATED_PROMETHEUS, 'rules.yml'), 'utf8')) as { groups: { name: string; rules: { alert: string }[] }[] };
    const expected = rulesFile.groups.flatMap((g) => g.rules.map((r) => `${g.name}/${r.alert}`)).sort();
    await eventually(async () => {
      const { groups } = await prom<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>(prometheus, '/api/v1/rules?type=alert');
      const loaded = groups.filter((g) => g.name !== 'container-test').flatMap((g) => g.rules.map((r) => ({ rule: `${g.name}/${r.name}`, health: r.health, error: r.lastError ?? '' })));
      expect(loaded.map((r) => r.rule).sort()).toEqual(expected);
      // Evaluated at least once, without error.
      expect(loaded.filter((r) => r.health !== 'ok')).toEqual([]);
      return true;
    }, { timeoutMs: 120_000, intervalMs: 5_000, description: 'generated rules loaded and evaluated' });
  });

  it('loses no accepted task when a worker holding tasks is killed, and Prometheus alerts on the lost worker', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await call(gateway, 'POST', '/v1/tasks', { key: tenantKey, body: { capability: 'sleep', input: { ms: 3_000 }, timeoutMs: 120_000 } });
      expect(r.status).toBe(202);
      ids.push(r.body.taskId);
    }
    // A worker's id starts with its container's hostname (WORKER_ID's default): find one holding a task.
    const workers = await stack.containers('agent-worker', false);
    const hostnames = new Map(await Promise.all(workers.map(async (n) => [(await stack.inspect(n)).Config.Hostname, n] as const)));
    const victim = await eventually(async () => {
      for (const id of ids) {
        const t = await call(gateway, 'GET', `/v1/tasks/${id}`, { key: tenantKey });
        const host = [...hostnames.keys()].find((h) => t.body.status === 'running' && String(t.body.agentId ?? '').startsWith(`${h}-`));
        if (host) return hostnames.get(host)!;
      }
      return false;
    }, { timeoutMs: 60_000, intervalMs: 200, description: 'a task running on a worker container' });
    await stack.kill(victim);

    const finals = await Promise.all(ids.map((id) => call(gateway, 'GET', `/v1/tasks/${id}/wait?timeoutMs=110000`, { key: tenantKey, timeoutMs: 120_000 })));
    expect(finals.map((f) => `${f.body.taskId}:${f.body.status}`)).toEqual(ids.map((id) => `${id}:succeeded`));
    // The killed worker's tasks ran again on the other one.
    expect(finals.some((f) => f.body.attempts >= 2)).toBe(true);
    expect((await stack.inspect(victim)).State.Running).toBe(false);

    const alert = await eventually(async () => {
      const { alerts } = await prom<{ alerts: { labels: { alertname: string }; state: string }[] }>(prometheus, '/api/v1/alerts');
      return alerts.find((a) => a.labels.alertname === 'ContainerTestAgentWorkerLost' && a.state === 'firing') ?? false;
    }, { timeoutMs: 120_000, intervalMs: 5_000, description: 'ContainerTestAgentWorkerLost firing' });
    expect(alert.state).toBe('firing');
  });
});

interface Proc {
  pid: number;
  uid: number;
  capEff: bigint;
}

/** A container's processes, from the host's /proc: its first process and every descendant. */
function processTree(root: number): Proc[] {
  const out: Proc[] = [];
  const visit = (pid: number) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
    const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)![1]}`);
    out.push({ pid, uid, capEff });
    for (const task of readdirSafe(`/proc/${pid}/task`)) {
      const children = readFileSafe(`/proc/${pid}/task/${task}/children`).split(/\s+/).filter(Boolean).map(Number);
      children.forEach(visit);
    }
  };
  if (root > 0) visit(root);
  return out;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readdirSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}
