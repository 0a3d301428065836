#!/usr/bin/env node
/**
 * `sb`: the Switchboard project CLI.
 *
 *   sb manifests <fleet.yaml> [--out <dir>]   generate Kubernetes, Prometheus and Grafana files
 *   sb nats init --out <dir> [...]            make the deployment's NATS keys and credentials (nats-init.ts)
 *   sb backup --out <dir>                     snapshot every stream and KV bucket of the fleet (backup/, docs/backup.md)
 *   sb restore <dir> [--force] [--replicas n] restore them into a NATS server (backup/, docs/backup.md)
 *
 * Also `npm run manifests -- deploy/fleet.yaml --out deploy/generated`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { FleetSpecError, parseFleetSpec } from './manifests/fleet-spec.loader';
import { generateManifests } from './manifests/manifest.generator';
import { writeManifests } from './manifests/manifest.writer';
import { NATS_INIT_USAGE, NatsSecurityFileError, runNatsInit } from './nats-init';
import { BackupError } from './backup/backup-error';
import { BACKUP_USAGE, runBackup } from './backup/backup.command';
import { RESTORE_USAGE, runRestore } from './backup/restore.command';
import { UsageError } from './usage-error';

const USAGE = `usage: sb manifests <fleet.yaml> [--out <dir>]   (default --out deploy/generated)\n${NATS_INIT_USAGE}\n${BACKUP_USAGE}\n${RESTORE_USAGE}`;

export function runManifests(args: string[], out: (s: string) => void = (s) => process.stdout.write(s)): number {
  let specPath: string | undefined;
  let outDir = 'deploy/generated';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--out' || a === '-o') {
      const v = args[++i];
      if (!v) throw new UsageError('--out needs a directory');
      outDir = v;
    } else if (a.startsWith('--out=')) outDir = a.slice('--out='.length);
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (specPath === undefined) specPath = a;
    else throw new UsageError(`unexpected argument ${a}`);
  }
  if (!specPath) throw new UsageError('missing the fleet spec file');
  const spec = parseFleetSpec(readFileSync(specPath, 'utf8'), specPath);
  const files = generateManifests(spec, basename(specPath));
  const { written, removed } = writeManifests(outDir, files);
  out(`wrote ${written} files to ${outDir}${removed.length ? `, removed ${removed.length} stale: ${removed.join(', ')}` : ''}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'manifests') return runManifests(rest);
    if (command === 'nats') {
      const [sub, ...natsArgs] = rest;
      if (sub !== 'init') throw new UsageError(sub === undefined ? 'nats: missing the subcommand (init)' : `unknown command nats ${sub}`);
      return await runNatsInit(natsArgs);
    }
    if (command === 'backup') return await runBackup(rest, process.env);
    if (command === 'restore') return await runRestore(rest, process.env);
    process.stderr.write(command === undefined || command === '--help' || command === '-h' ? `${USAGE}\n` : `sb: unknown command ${command}\n${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 64;
  } catch (e) {
    if (e instanceof BackupError) {
      // A stable code to branch on and a message that says what to do; never a stack trace.
      process.stderr.write(`sb ${command}: ${e.code}: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof FleetSpecError || e instanceof NatsSecurityFileError) {
      process.stderr.write(`sb: ${e.message}\n`);
      return 65; // EX_DATAERR
    }
    if (e instanceof UsageError) {
      process.stderr.write(`sb: ${e.message}\n${USAGE}\n`);
      return 64; // EX_USAGE
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      process.stderr.write(`sb: ${err.message}\n`);
      return 66; // EX_NOINPUT
    }
    throw e;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
