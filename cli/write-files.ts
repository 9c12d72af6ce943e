import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { GeneratedFile } from '../config/index.js';

/** Folders whose every file a generator owns: a file there that is no longer generated is stale. */
export const GENERATOR_OWNED_FOLDERS = [
  'provisioning/grafana/dashboards',
  'provisioning/prometheus/rules',
  'provisioning/prometheus/tests',
  'provisioning/alertmanager/templates',
  'provisioning/kubernetes',
] as const;

function listFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

export interface FileDrift {
  /** Generated files whose content on disk differs, or that are missing. */
  changed: string[];
  /** Files in generator-owned folders that no generator produces any more. */
  orphaned: string[];
}

/**
 * Compares generated content with the tree under root, without writing anything; `ownedFolders`
 * narrows the orphan search (`generate --target` owns one folder).
 */
export function findDrift(root: string, files: GeneratedFile[], ownedFolders: readonly string[] = GENERATOR_OWNED_FOLDERS): FileDrift {
  const changed = files
    .filter((file) => {
      const path = join(root, file.path);
      return !existsSync(path) || readFileSync(path, 'utf8') !== file.content;
    })
    .map((file) => file.path);
  const generated = new Set(files.map((file) => file.path));
  const orphaned = ownedFolders.flatMap((folder) => listFiles(join(root, folder)))
    .map((path) => relative(root, path))
    .filter((path) => !generated.has(path))
    .sort();
  return { changed, orphaned };
}

/**
 * Writes every changed file through a temporary file and a rename, so a reader never sees a
 * half-written file, then removes orphans. Content is fully computed before this is called,
 * so a bad config fails before anything on disk is touched.
 */
export function writeGeneratedFiles(root: string, files: GeneratedFile[], ownedFolders: readonly string[] = GENERATOR_OWNED_FOLDERS): FileDrift {
  const drift = findDrift(root, files, ownedFolders);
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw new Error(`two generators both produce ${file.path}`);
    seen.add(file.path);
    if (resolve(root, file.path) !== join(resolve(root), file.path)) throw new Error(`generated path escapes the project: ${file.path}`);
  }
  for (const path of drift.changed) {
    const file = files.find((f) => f.path === path)!;
    const target = join(root, path);
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, file.content);
    renameSync(temporary, target);
  }
  for (const path of drift.orphaned) rmSync(join(root, path));
  return drift;
}
