/**
 * docker-compose.yml brought up for real, by `docker compose` where it exists, else by podman
 * with podman-compose. Both get the same files: docker-compose.yml, docker-compose.local.yml
 * (images built here from Debian packages and the local Node 24 base) and compose.test.yml.
 *
 * podman-compose 1.0 (Debian bookworm's) translates each service into a `podman create` well,
 * but ignores depends_on conditions and runs no health checks on a host without systemd (podman
 * schedules them with systemd timers). So with podman the stack is created with
 * `podman-compose up --no-start`, and started here in dependency order, each `depends_on`
 * condition awaited as compose would (service_completed_successfully: the container exited 0;
 * service_healthy: its own health check, run with `podman healthcheck run`, passes). With docker
 * it is `docker compose up -d --build --wait`, as the README says.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { eventually } from '@sb/testing';
import { Shell, works } from './shell';

export const ROOT = join(__dirname, '..', '..', '..');

/**
 * A copy of the work tree as git sees it (tracked and untracked files, not ignored ones), to build
 * and run from. Every image then builds from the same files: compose builds the seven services one
 * by one, and a file edited meanwhile would otherwise give each its own build stage (and compile).
 */
export async function snapshotWorkTree(sh: Shell, into: string): Promise<string> {
  const { stdout } = await sh.run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT });
  const files = stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)));
  mkdirSync(into, { recursive: true });
  await sh.run('tar', ['-C', ROOT, '--null', '-T', '-', '-cf', join(into, '..', 'tree.tar')], { input: files.join('\0') });
  await sh.run('tar', ['-C', into, '-xf', join(into, '..', 'tree.tar')]);
  rmSync(join(into, '..', 'tree.tar'));
  return into;
}
export const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.local.yml', 'test/containers/compose.test.yml'];

type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';
interface ServiceDef {
  depends_on?: Record<string, { condition?: Condition }> | string[];
  user?: string;
}

export interface ContainerInfo {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Health?: { Status: string } };
  Config: { User: string; Hostname: string; Labels: Record<string, string> };
  HostConfig: { ReadonlyRootfs: boolean; SecurityOpt: string[] | null; CapDrop: string[] | null };
}

export type Engine = 'docker' | 'podman';

export async function detectEngine(): Promise<Engine> {
  if (await works('docker', ['compose', 'version']) && await works('docker', ['info'])) return 'docker';
  if (await works('podman', ['version']) && await works('podman-compose', ['version'])) return 'podman';
  throw new Error('no container engine: install Docker with Compose v2, or podman and podman-compose (docs/containers.md)');
}

/** The services of docker-compose.yml as written (merge keys resolved). */
export function composeServices(root = ROOT): Record<string, ServiceDef> {
  const doc = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ServiceDef> };
  return doc.services;
}

export class Stack {
  private readonly services: Record<string, ServiceDef>;

  constructor(
    /** The tree to build and run from (a snapshot of ROOT). */
    readonly root: string,
    readonly engine: Engine,
    readonly project: string,
    readonly env: NodeJS.ProcessEnv,
    readonly sh: Shell,
  ) {
    this.services = composeServices(root);
  }

  private compose(args: readonly string[], timeoutMs?: number, allowFailure = false) {
    const files = COMPOSE_FILES.flatMap((f) => ['-f', join(this.root, f)]);
    const [cmd, base] = this.engine === 'docker' ? ['docker', ['compose', '-p', this.project, ...files]] : ['podman-compose', ['-p', this.project, ...files]];
    return this.sh.run(cmd, [...base, ...args], { cwd: this.root, env: this.env, timeoutMs, allowFailure });
  }

  /** Build every image the services use (cached layers are reused: only what changed is rebuilt). */
  async build(services: readonly string[]): Promise<void> {
    const r = await this.compose(['build', ...services], 3_600_000);
    // podman-compose 1.0 exits 0 when an image's build failed; it prints each build's exit code.
    const failed = /exit code: [1-9]\d*/.exec(`${r.stdout}\n${r.stderr}`);
    if (failed) throw new Error(`compose build: an image failed to build (${failed[0]}): see ${this.sh.logFile}`);
  }

  /** Start `services` and wait until every one is running and healthy (one-shots: exited 0). */
  async up(services: readonly string[]): Promise<void> {
    if (this.engine === 'docker') {
      await this.compose(['up', '-d', '--wait', '--wait-timeout', '300', ...services], 900_000);
      return;
    }
    await this.compose(['up', '--no-start', ...services], 900_000);
    // podman-compose 1.0 also exits 0 when it could not create a container.
    for (const service of services) {
      if ((await this.containers(service)).length === 0) throw new Error(`compose up --no-start created no container for ${service}: see ${this.sh.logFile}`);
    }
    const started = new Set<string>();
    const start = async (service: string): Promise<void> => {
      if (started.has(service)) return;
      started.add(service);
      for (const [dep, condition] of this.dependencies(service)) {
        await start(dep);
        await this.await(dep, condition);
      }
      for (const name of await this.containers(service)) await this.sh.run('podman', ['start', name]);
    };
    for (const service of services) await start(service);
    for (const service of services) {
      if (!this.dependents(service).some(([, c]) => c === 'service_completed_successfully')) await this.await(service, 'service_healthy');
    }
  }

  private dependencies(service: string): [string, Condition][] {
    const deps = this.services[service]?.depends_on ?? {};
    return Array.isArray(deps) ? deps.map((d) => [d, 'service_started']) : Object.entries(deps).map(([d, v]) => [d, v?.condition ?? 'service_started']);
  }

  private dependents(service: string): [string, Condition][] {
    return Object.keys(this.services).flatMap((s) => this.dependencies(s).filter(([d]) => d === service).map(([, c]) => [s, c] as [string, Condition]));
  }

  private async await(service: string, condition: Condition): Promise<void> {
    for (const name of await this.containers(service)) {
      if (condition === 'service_completed_successfully') {
        const { stdout } = await this.sh.run('podman', ['wait', name], { timeoutMs: 300_000 });
        if (stdout.trim() !== '0') throw new Error(`${name} (${service}) exited ${stdout.trim()}, not 0: see ${this.sh.logFile}`);
      } else if (condition === 'service_healthy') {
        await eventually(async () => (await this.healthy(name)) || false, { timeoutMs: 240_000, intervalMs: 2_000, description: `${name} healthy` });
      }
    }
  }

  /** The containers of a service, by compose's labels (both tools set them). */
  async containers(service?: string, all = true): Promise<string[]> {
    const filters = ['--filter', `label=com.docker.compose.project=${this.project}`];
    if (service) filters.push('--filter', `label=com.docker.compose.service=${service}`);
    const { stdout } = await this.sh.run(this.engine, ['ps', ...(all ? ['-a'] : []), ...filters, '--format', '{{.Names}}']);
    return stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }

  async inspect(name: string): Promise<ContainerInfo> {
    const { stdout } = await this.sh.run(this.engine, ['inspect', '--type', 'container', name]);
    return (JSON.parse(stdout) as ContainerInfo[])[0];
  }

  /**
   * Runs the container's own health check once, now (podman), or reads the engine's latest verdict
   * (docker runs them itself). Containers without one count as healthy while running.
   */
  async healthy(name: string): Promise<boolean> {
    if (this.engine === 'podman') {
      const r = await this.sh.run('podman', ['healthcheck', 'run', name], { allowFailure: true, timeoutMs: 30_000 });
      if (r.code === 0) return true;
      // "has no defined healthcheck": then running is all compose asks.
      if (/no defined healthcheck/i.test(r.stderr)) return (await this.inspect(name)).State.Running;
      return false;
    }
    const info = await this.inspect(name);
    return info.State.Health ? info.State.Health.Status === 'healthy' : info.State.Running;
  }

  async exec(name: string, args: readonly string[], allowFailure = false) {
    return this.sh.run(this.engine, ['exec', name, ...args], { allowFailure, timeoutMs: 60_000 });
  }

  /** SIGKILL, as a crash or the OOM killer would; the engine then leaves it stopped (a user's kill). */
  async kill(name: string): Promise<void> {
    await this.sh.run(this.engine, ['kill', '--signal', 'KILL', name]);
  }

  /** Every container's logs into the log folder (kept after the run: where to look on a failure). */
  async saveLogs(): Promise<void> {
    for (const name of await this.containers()) {
      const r = await this.sh.run(this.engine, ['logs', name], { allowFailure: true });
      writeFileSync(join(this.sh.logDir, `${name}.log`), `${r.stdout}${r.stderr}`);
    }
  }

  /** Containers, volumes and the network of the project, whatever state they are in. */
  async down(): Promise<void> {
    await this.compose(['down', '-v', '-t', '5'], 300_000, true);
    // What the tool left (podman-compose removes only what the files name, e.g. not scaled replicas).
    const left = await this.containers();
    if (left.length) await this.sh.run(this.engine, ['rm', '-f', '-v', ...left], { allowFailure: true });
    const volumes = await this.sh.run(this.engine, ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${this.project}`], { allowFailure: true });
    const named = await this.sh.run(this.engine, ['volume', 'ls', '-q'], { allowFailure: true });
    const ours = new Set([...volumes.stdout.split('\n'), ...named.stdout.split('\n').filter((v) => v.startsWith(`${this.project}_`))].map((v) => v.trim()).filter(Boolean));
    if (ours.size) await this.sh.run(this.engine, ['volume', 'rm', '-f', ...ours], { allowFailure: true });
    for (const net of [`${this.project}_default`]) await this.sh.run(this.engine, ['network', 'rm', '-f', net], { allowFailure: true });
  }
}
