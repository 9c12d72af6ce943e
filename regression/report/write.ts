// Writes both reports next to each other; each file appears whole or not at all.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ComparisonReport } from './types.js';

export interface WrittenReports {
  markdownPath: string;
  htmlPath: string;
}

export interface WriteReportsOptions {
  /** File name without extension; default "regression-report". */
  basename?: string;
}

let tmpCounter = 0;

/** Writes `content` to a temporary file beside `path`, then renames it over `path`. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  tmpCounter += 1;
  const tmp = `${path}.${process.pid}.${tmpCounter}.tmp`;
  try {
    await writeFile(tmp, content, { encoding: 'utf8', flag: 'wx' });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Renders the Markdown and HTML reports into `dir` (created if missing). Both are rendered
 * before either is written, so a rendering error leaves nothing behind.
 */
export async function writeReports(
  report: ComparisonReport,
  dir: string,
  options: WriteReportsOptions = {},
): Promise<WrittenReports> {
  const basename = options.basename ?? 'regression-report';
  if (basename === '' || /[/\\]/.test(basename) || basename === '.' || basename === '..') {
    throw new Error(`writeReports: basename must be a plain file name, got ${JSON.stringify(basename)}`);
  }
  const markdown = renderMarkdown(report);
  const html = await renderHtml(report);
  await mkdir(dir, { recursive: true });
  const markdownPath = join(dir, `${basename}.md`);
  const htmlPath = join(dir, `${basename}.html`);
  await writeFileAtomic(markdownPath, markdown);
  await writeFileAtomic(htmlPath, html);
  return { markdownPath, htmlPath };
}
