// A self-contained flame graph page: d3-flame-graph and d3-selection bundled by esbuild into one
// HTML file with the profile's call tree inlined, so it opens from disk with no network.

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { FlameNode, FunctionTime } from './profile.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const ENTRY = `
import { select } from 'd3-selection';
import flamegraph from 'd3-flame-graph';
const data = JSON.parse(document.getElementById('profile-data').textContent);
const chart = flamegraph().width(Math.max(960, document.body.clientWidth - 32)).cellHeight(18).minFrameSize(1).selfValue(false)
  .label((d) => d.data.name + ': ' + d.data.value.toFixed(1) + ' ms');
select('#chart').datum(data).call(chart);
document.getElementById('reset').addEventListener('click', () => chart.resetZoom());
`;

let bundled: Promise<{ js: string; css: string }> | undefined;

/** d3-flame-graph's script and stylesheet, bundled once per process. */
function flameGraphBundle(): Promise<{ js: string; css: string }> {
  bundled ??= build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    outdir: 'flamegraph',
    platform: 'browser',
    logLevel: 'silent',
  }).then((result) => ({
    js: result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '',
    css: result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '',
  }));
  return bundled;
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** JSON inside <script>: no "</script>" or "<!--" can end it early. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export async function flameGraphHtml(options: { title: string; tree: FlameNode; top: FunctionTime[]; summary: string }): Promise<string> {
  const { js, css } = await flameGraphBundle();
  const rows = options.top
    .map((f) => `<tr><td>${f.selfMs.toFixed(1)} ms</td><td>${(f.selfShare * 100).toFixed(1)} %</td><td>${escapeHtml(f.name)}</td><td>${escapeHtml(f.location)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>${css}
body{font:14px system-ui,sans-serif;margin:16px}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}td:first-child,td:nth-child(2){text-align:right}</style>
</head><body>
<h1>${escapeHtml(options.title)}</h1>
<p>${escapeHtml(options.summary)} Click a frame to zoom; <button id="reset">reset zoom</button></p>
<div id="chart"></div>
<h2>Top functions by self time</h2>
<table><thead><tr><th>self</th><th>share</th><th>function</th><th>where</th></tr></thead><tbody>
${rows}
</tbody></table>
<script type="application/json" id="profile-data">${inlineJson(options.tree)}</script>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
</body></html>
`;
}
