import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Runbook links point at heading anchors in docs/runbooks.md; this lists the anchors that exist.

export const RUNBOOKS_PATH = 'docs/runbooks.md';

/** GitHub's heading slug: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of every Markdown heading outside fenced code blocks, in document order. */
export function runbookAnchors(markdown: string): string[] {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = githubSlug(heading[1] ?? '');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.push(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Anchors of the project's docs/runbooks.md. */
export function readRunbookAnchors(projectRoot = process.cwd()): string[] {
  return runbookAnchors(readFileSync(join(projectRoot, RUNBOOKS_PATH), 'utf8'));
}
