// Writes the run report so that `path` holds either the previous file or the whole new one:
// the document is rendered first, written and synced to a temporary file in the same folder
// (same file system), then renamed over `path`.

import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { renderRunReport } from './render.js';
import type { ReportInput } from './types.js';

let tmpCounter = 0;

/** Writes `content` beside `path` under a temporary name, syncs it, then renames it over `path`. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  tmpCounter += 1;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(tmp, 'wx');
    try {
      await file.writeFile(content, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot write run report to ${path}: ${reason}`, { cause: error });
  }
}

/** Renders the report and writes it to `path`; never leaves a half-written file behind. */
export async function writeRunReport(path: string, input: ReportInput): Promise<void> {
  const html = await renderRunReport(input);
  await writeFileAtomic(path, html);
}
