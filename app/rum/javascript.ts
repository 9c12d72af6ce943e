// The JavaScript each page template loads, measured from the files the service serves: the page's
// <script src> files (under /static/) plus its inline scripts. Uncompressed bytes, the figure a
// "total JavaScript < 1 MB" budget is usually stated in (the browser parses and compiles these).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';

/** The meta tag that names a page's template: `<meta name="perfstack-page" content="search">`. */
export const PAGE_META_NAME = 'perfstack-page';

export interface PageJavascript {
  /** The page template, from the page's meta tag. */
  page: string;
  /** The HTML file, relative to the public folder. */
  file: string;
  /** Each script's URL path (or `inline #n`) and its bytes. */
  scripts: { src: string; bytes: number }[];
  bytes: number;
}

const META = new RegExp(`<meta\\s+name="${PAGE_META_NAME}"\\s+content="([^"]*)"\\s*/?>`, 'i');
const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
const SRC = /\bsrc="([^"]+)"/i;

/** The scripts of one HTML page; `publicDir` is the folder served at `/`. */
export function measurePage(publicDir: string, file: string): PageJavascript {
  const html = readFileSync(join(publicDir, file), 'utf8');
  const page = META.exec(html)?.[1];
  if (!page) throw new Error(`${file}: no <meta name="${PAGE_META_NAME}" content="…"> naming its page template`);
  const scripts: { src: string; bytes: number }[] = [];
  let inline = 0;
  for (const match of html.matchAll(SCRIPT)) {
    const src = SRC.exec(match[1] ?? '')?.[1];
    if (src === undefined) {
      scripts.push({ src: `inline #${++inline}`, bytes: Buffer.byteLength(match[2] ?? '') });
      continue;
    }
    if (!src.startsWith('/') || src.startsWith('//')) throw new Error(`${file}: script ${src} is not served by this service; its size cannot be measured`);
    const path = normalize(join(publicDir, decodeURIComponent(src.split(/[?#]/)[0]!)));
    if (!path.startsWith(normalize(publicDir) + (publicDir.endsWith(sep) ? '' : sep))) throw new Error(`${file}: script ${src} points outside the public folder`);
    scripts.push({ src, bytes: statSync(path).size });
  }
  return { page, file, scripts, bytes: scripts.reduce((sum, s) => sum + s.bytes, 0) };
}

/** Every HTML page at the top of the public folder, measured. */
export function measurePages(publicDir: string): PageJavascript[] {
  return readdirSync(publicDir)
    .filter((name) => name.endsWith('.html'))
    .sort()
    .map((name) => measurePage(publicDir, name));
}
