/**
 * Writes generated files under an output directory. Files a previous run generated that are no
 * longer produced (a disabled pool's kind file, say) are removed, so the directory is exactly
 * the generator's output; nothing outside the generator's own subfolders is touched.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { GeneratedFile } from './manifest.generator';

const OWNED = ['kubernetes', 'prometheus', 'grafana/dashboards'];

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every file under the generator's subfolders of `outDir`, as paths relative to it, sorted. */
export function listGenerated(outDir: string): string[] {
  return OWNED.flatMap((d) => listFiles(join(outDir, d)))
    .map((f) => relative(outDir, f).split('\\').join('/'))
    .filter((f, i, all) => all.indexOf(f) === i)
    .sort();
}

export function writeManifests(outDir: string, files: GeneratedFile[]): { written: number; removed: string[] } {
  const wanted = new Set(files.map((f) => f.path));
  const removed = listGenerated(outDir).filter((f) => !wanted.has(f));
  for (const f of removed) rmSync(join(outDir, f));
  for (const f of files) {
    const target = join(outDir, f.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
  }
  return { written: files.length, removed };
}
