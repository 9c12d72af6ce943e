import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSvg, renderSvg } from '../../charts/index.js';
import { formatChange, formatCi, formatPValue, formatValue, markdownCode, shellQuote } from './format.js';
import { PLOT_ALL_LIMIT, renderHtml, renderMarkdown, writeReports, type ComparisonReport, type KpiComparison } from './index.js';
import { buildReport } from './test-fixture.js';

const HOSTILE_TESTID = 'pr-99-<script>alert("x")</script>';
const HOSTILE_ENDPOINT = 'GET /api/a|b/<img src=x onerror=alert(1)>&`q`';

function find(report: ComparisonReport, kpi: KpiComparison['kpi']): KpiComparison {
  const c = report.comparisons.find((x) => x.kpi === kpi);
  if (!c) throw new Error(`fixture lacks ${kpi}`);
  return c;
}

/** The fixture with hostile text where user text goes: testids, endpoint, description. */
function hostileReport(): ComparisonReport {
  const report = buildReport();
  report.candidate.testid = HOSTILE_TESTID;
  report.baseline.description = 'main <b>bold</b> & co';
  const orders = find(report, 'latency_p95');
  orders.endpoint = HOSTILE_ENDPOINT;
  const last = orders.history[orders.history.length - 1];
  if (last) last.testid = HOSTILE_TESTID;
  const cp = orders.history[21];
  if (cp) cp.testid = `${HOSTILE_TESTID}-cp`;
  return report;
}

/** Table rows (cells trimmed) of the Markdown section that starts with `heading`. */
function markdownRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n').slice(1);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines) {
    if (line.startsWith('|')) {
      inTable = true;
      rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
    } else if (inTable) break;
  }
  return rows.slice(2); // header and separator
}

/** The fixture's HTML, rendered once and shared by the tests that only read it. */
let fixtureHtml: Promise<string> | undefined;
function renderFixtureHtml(): Promise<string> {
  fixtureHtml ??= renderHtml(buildReport());
  return fixtureHtml;
}

describe('formatting', () => {
  it('formats values in readable units', () => {
    expect(formatValue('seconds', 0.2846)).toBe('285 ms');
    expect(formatValue('seconds', 1.234)).toBe('1.23 s');
    expect(formatValue('seconds', 0.00092)).toBe('920 µs');
    expect(formatValue('ratio', 0.0052)).toBe('0.52%');
    expect(formatValue('per-second', 409.8)).toBe('410/s');
    expect(formatValue('bytes', 3 * 1024 * 1024)).toBe('3 MiB');
    expect(formatValue('count', 0.1234)).toBe('0.123');
    expect(formatValue('seconds', Number.NaN)).toBe('n/a');
  });

  it('formats changes, intervals and p-values', () => {
    expect(formatChange(0.3425)).toBe('+34.3%');
    expect(formatChange(-0.157)).toBe('−15.7%');
    expect(formatChange(0.00001)).toBe('0.0%');
    expect(formatChange(2.5)).toBe('+250%');
    expect(formatCi([-0.02, 0.06])).toBe('[−2.0%, +6.0%]');
    expect(formatPValue(0.0004)).toBe('< 0.001');
    expect(formatPValue(0.0131)).toBe('0.013');
    expect(formatPValue(0.47)).toBe('0.47');
  });

  it('builds code spans and shell words that survive odd text', () => {
    expect(markdownCode('a`b')).toBe('``a`b``');
    expect(markdownCode('a|b', { inTable: true })).toBe('`a\\|b`');
    expect(shellQuote('nightly-2025-05-01')).toBe('nightly-2025-05-01');
    expect(shellQuote("it's <x>")).toBe(`'it'\\''s <x>'`);
  });
});

describe('SVG normalisation', () => {
  it('renames ids in order of appearance and drops the namespace URLs', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" class="marks">' +
      '<defs><clipPath id="clip42"><rect/></clipPath><linearGradient id="gradient_7"/></defs>' +
      '<g clip-path="url(#clip42)"><path fill="url(#gradient_7)"/><a href="#clip42"/></g></svg>';
    expect(normalizeSvg(svg, 'k3-h')).toBe(
      '<svg class="marks"><defs><clipPath id="k3-h-1"><rect/></clipPath><linearGradient id="k3-h-2"/></defs>' +
        '<g clip-path="url(#k3-h-1)"><path fill="url(#k3-h-2)"/><a href="#k3-h-1"/></g></svg>',
    );
  });

  it('makes clipped charts identical across renderings', async () => {
    const spec: TopLevelSpec = {
      data: { values: [{ x: 1, y: 2 }, { x: 2, y: 5 }] },
      mark: { type: 'line', clip: true },
      encoding: { x: { field: 'x', type: 'quantitative', scale: { domain: [1, 1.5] } }, y: { field: 'y', type: 'quantitative' } },
    };
    const first = await renderSvg(spec, 'p');
    const second = await renderSvg(spec, 'p');
    expect(first).toMatch(/clip-path="url\(#p-1\)"/);
    expect(second).toBe(first);
  });
});

describe('renderMarkdown', () => {
  const report = buildReport();
  const markdown = renderMarkdown(report);
  const orders = find(report, 'latency_p95');
  const errors = find(report, 'error_rate');

  it('leads with the counts and the worst regression', () => {
    const [first, , worst] = markdown.split('\n');
    expect(first).toBe('## Performance regression report: FAIL (2 regressed, 1 improved, 5 unchanged)');
    expect(worst).toContain('**Worst regression:** p95 latency of `GET /api/orders/:id` rose');
    expect(worst).toContain(formatChange(orders.relativeChange));
    expect(worst).toContain('212 ms → 285 ms');
    expect(worst).toContain('p < 0.001');
  });

  it('lists the regressed KPIs worst first, with their numbers', () => {
    const rows = markdownRows(markdown, '### Regressed (2)');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual([
      'p95 latency',
      '`GET /api/orders/:id`',
      '212 ms',
      '285 ms',
      `**${formatChange(orders.relativeChange)}**`,
      formatCi(orders.ci),
      '< 0.001',
      'Mann-Whitney U',
    ]);
    expect(rows[1]?.[0]).toBe('error rate');
    expect(rows[1]?.[4]).toBe(`**${formatChange(errors.relativeChange)}**`);
    expect(rows[1]?.slice(6)).toEqual(['0.013', 'bootstrap']);
    // Groups in order: regressed, improved, unchanged.
    const order = ['### Regressed', '### Improved', '<summary>Unchanged (5)</summary>'].map((s) => markdown.indexOf(s));
    expect(order.every((i, k) => i > 0 && (k === 0 || i > (order[k - 1] ?? 0)))).toBe(true);
    expect(markdownRows(markdown, '### Improved (1)')[0]?.slice(0, 2)).toEqual(['p50 latency', '`GET /api/products`']);
    expect(markdownRows(markdown, '<summary>Unchanged (5)</summary>')).toHaveLength(5);
  });

  it('notes change points and gives hints per regressed KPI kind', () => {
    expect(markdown).toContain('### Change points in the history');
    expect(markdown).toMatch(/a step of \*\*\+31\.8%\*\* starting at run `nightly-2025-05-22` \(2 runs before this one/);
    expect(markdown).toContain('**Latency**: p95 latency (GET /api/orders/:id)');
    expect(markdown).toContain('`perfstack / Service overview`');
    expect(markdown).toContain('`perfstack / Database`');
    expect(markdown).toContain('`perfstack analyze --testid checkout-pr-4711-run-1`');
    expect(markdown).toContain('**Error rate and checks**: error rate (whole run)');
    expect(markdown).not.toContain('**Throughput**');
    expect(markdown).toContain('`docs/performance_regression_guide.md`');
    expect(markdown).toContain('`docs/performance_optimization_guide.md`');
    expect(markdown).not.toMatch(/https?:\/\//);
  });

  it('says so when nothing regressed', () => {
    const calm = buildReport();
    calm.comparisons = calm.comparisons.filter((c) => c.verdict !== 'regressed');
    const md = renderMarkdown(calm);
    expect(md.split('\n')[0]).toBe('## Performance regression report: PASS (0 regressed, 1 improved, 5 unchanged)');
    expect(md).toContain('**No regressions.**');
    expect(md).not.toContain('### What to do');
  });

  it('shows the statistic each verdict used, and what is missing where there was too little data', () => {
    const report = buildReport();
    const first = report.comparisons.find((c) => c.verdict === 'regressed')!;
    Object.assign(first, { test: 'two-level', statistic: 'p95', baselineValue: 0.2, threshold: 0.08 });
    const unjudged = { ...first, endpoint: '/api/new', verdict: 'insufficient data' as const, missing: 'the run-to-run variation: 1 baseline run and 0 earlier runs in the KPI’s history' };
    report.comparisons.push(unjudged);
    const md = renderMarkdown(report);
    expect(md.split('\n')[0]).toBe('## Performance regression report: FAIL (2 regressed, 1 improved, 5 unchanged, 1 with insufficient data)');
    expect(md).toContain('two-level t of the p95 (runs, then requests)');
    expect(md).toContain('### Insufficient data (1)');
    expect(md).toMatch(/- .* of `\/api\/new`: missing the run-to-run variation: 1 baseline run/);
    expect(md).toContain('run-to-run noise times its noise multiple');
  });

  it('escapes user text and is deterministic', () => {
    const hostile = renderMarkdown(hostileReport());
    // Code spans show their text literally; outside them no tag may survive.
    const prose = hostile.replace(/``.*?``/g, '').replace(/`[^`]*`/g, '');
    expect(prose).not.toMatch(/<(script|img|b)\b/);
    expect(prose.match(/<\/?[a-z]+/g)?.sort()).toEqual(['</details', '</sub', '</summary', '<details', '<sub', '<summary']);
    expect(hostile).toContain('main &lt;b&gt;bold&lt;/b&gt; &amp; co');
    // The pipe inside the endpoint must not split the table row.
    const rows = markdownRows(hostile, '### Regressed (2)');
    expect(rows[0]).toHaveLength(8);
    expect(rows[0]?.[1]).toBe('`` GET /api/a\\|b/<img src=x onerror=alert(1)>&`q` ``');
    expect(hostile).toContain(`perfstack analyze --testid 'pr-99-<script>alert("x")</script>'`);
    expect(renderMarkdown(hostileReport())).toBe(hostile);
    expect(renderMarkdown(buildReport())).toBe(markdown);
  });
});

describe('renderHtml', () => {
  let html = '';
  let hostile = '';
  beforeAll(async () => {
    html = await renderFixtureHtml();
    hostile = await renderHtml(hostileReport());
  });

  it('has the Markdown content: headline, tables, change points and hints', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<span class="status fail">FAIL</span>2 regressed, 1 improved, 5 unchanged');
    expect(html).toContain('<strong>Worst regression:</strong> p95 latency of <code>GET /api/orders/:id</code> rose');
    const regressed = html.indexOf('<h2 id="regressed">Regressed (2)</h2>');
    const improved = html.indexOf('<h2 id="improved">Improved (1)</h2>');
    const unchanged = html.indexOf('<h2 id="unchanged">Unchanged (5)</h2>');
    expect(regressed).toBeGreaterThan(0);
    expect(improved).toBeGreaterThan(regressed);
    expect(unchanged).toBeGreaterThan(improved);
    const firstRow = html.slice(regressed).match(/<tr class="regressed">.*?<\/tr>/)?.[0] ?? '';
    expect(firstRow).toContain('p95 latency');
    expect(firstRow).toContain('<td class="num">212 ms</td><td class="num">285 ms</td>');
    expect(html).toContain('Change points in the history');
    expect(html).toContain('<code>perfstack analyze --testid checkout-pr-4711-run-1</code>');
    expect(html).toContain('<code>docs/performance_regression_guide.md</code>');
  });

  it('plots every KPI, two inline SVG charts each, when there are at most 20', () => {
    const svgs = html.match(/<svg[\s>]/g) ?? [];
    expect(svgs).toHaveLength(2 * 8);
    expect(html.match(/<\/svg>/g) ?? []).toHaveLength(2 * 8);
    expect(html.match(/<section class="kpi /g) ?? []).toHaveLength(8);
    // Worst first: the regressed p95 latency is the first chart section.
    expect(html.match(/<section class="kpi (\w+)" id="kpi-1">\s*<h3>.*?<\/h3>/)?.[0]).toContain('p95 latency · GET /api/orders/:id');
    // The change point rule and its label, and the per-request box plot, are in the charts.
    expect(html.includes('>shift +32%</text>')).toBe(true);
    // Box plots: one for each of the 7 KPIs without samples, two for the one with samples.
    expect(html.match(/aria-roledescription="box"/g) ?? []).toHaveLength(7 + 2);
  });

  it('plots only changed KPIs when there are more than 20', async () => {
    const big = buildReport();
    const template = find(big, 'latency_p99');
    for (let i = 0; i < PLOT_ALL_LIMIT; i += 1) {
      big.comparisons.push({ ...template, endpoint: `GET /api/extra/${i}` });
    }
    const page = await renderHtml(big);
    expect(page.match(/<svg[\s>]/g) ?? []).toHaveLength(2 * 3);
    expect(page).toContain(`${5 + PLOT_ALL_LIMIT} unchanged KPIs are not plotted.`);
  });

  it('references no external resource and runs no script', () => {
    for (const page of [html, hostile]) {
      // Every attribute that can load something, in every tag (escaped text has no tags).
      const tags = page.match(/<[a-zA-Z][^>]*>/g) ?? [];
      const refs = tags.flatMap((tag) =>
        [...tag.matchAll(/\s(?:src|href|xlink:href|action|poster|data|srcset)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map(
          (m) => m[1] ?? m[2] ?? m[3] ?? '',
        ),
      );
      expect(refs.length).toBeGreaterThan(0); // the in-page anchors
      expect(refs.filter((ref) => !/^#[\w-]+$/.test(ref))).toEqual([]);
      // Not even the SVG namespace URLs are left, and nothing can fetch or run.
      expect(/https?:\/\//.test(page)).toBe(false);
      expect(tags.filter((tag) => /^<(script|link|img|iframe|object|embed|image|use|foreignObject)\b/i.test(tag))).toEqual([]);
      expect(/@import|url\((?!#)/i.test(page)).toBe(false);
      expect(tags.filter((tag) => /\son[a-z]+\s*=/i.test(tag))).toEqual([]);
    }
  });

  it('escapes testids, endpoints and descriptions', () => {
    expect(hostile.includes('<script')).toBe(false);
    expect(hostile.includes('<img')).toBe(false);
    expect(hostile.includes('<b>bold')).toBe(false);
    expect(hostile).toContain('<title>perfstack regression report: pr-99-&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</title>');
    expect(hostile).toContain('<code>GET /api/a|b/&lt;img src=x onerror=alert(1)&gt;&amp;`q`</code>');
    expect(hostile).toContain('main &lt;b&gt;bold&lt;/b&gt; &amp; co');
  });

  it('gives every SVG id once and resolves every reference', () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of html.matchAll(/url\(#([^)]+)\)|href="#([^"]+)"/g)) {
      const ref = m[1] ?? m[2];
      expect(ids, ref).toContain(ref);
    }
  });

  it('renders degenerate comparisons without throwing', async () => {
    const odd = buildReport();
    const base = find(odd, 'throughput');
    odd.comparisons = [
      { ...base, endpoint: 'empty', history: [], baselineValues: [], changePoints: [{ index: 5, pValue: 0.01, relativeChange: 0.2 }] },
      { ...base, endpoint: 'nan', candidateValue: Number.NaN, relativeChange: Number.NaN, ci: [Number.NaN, Number.NaN], pValue: Number.NaN },
      { ...base, endpoint: 'one', baselineValues: [400], history: (base.history[0] ? [base.history[0]] : []), changePoints: [{ index: 0, pValue: 0.2, relativeChange: Infinity }] },
      { ...base, endpoint: 'half-samples', baselineSamples: [0.1, 0.2], candidateSamples: [] },
      { ...base, endpoint: 'zero', baselineValues: [0, 0, 0], candidateValue: 0, relativeChange: 0, history: base.history.map((h) => ({ ...h, value: 0 })) },
    ];
    const page = await renderHtml(odd);
    expect(page.match(/<svg[\s>]/g) ?? []).toHaveLength(10);
    expect(renderMarkdown(odd)).toContain('| throughput | `nan` | 402/s | n/a | n/a | [n/a, n/a] | n/a | Mann-Whitney U |');
  });

  it('renders the same bytes twice', async () => {
    const again = await renderHtml(buildReport());
    expect(again === html).toBe(true);
  });
});

describe('writeReports', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'perfstack-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes both files whole and leaves no temporary file', async () => {
    const report = buildReport();
    const out = await writeReports(report, join(dir, 'nested', 'out'));
    expect(out).toEqual({
      markdownPath: join(dir, 'nested', 'out', 'regression-report.md'),
      htmlPath: join(dir, 'nested', 'out', 'regression-report.html'),
    });
    expect(await readFile(out.markdownPath, 'utf8')).toBe(renderMarkdown(report));
    expect((await readFile(out.htmlPath, 'utf8')) === (await renderFixtureHtml())).toBe(true);
    // Overwrites in place.
    const again = buildReport();
    again.comparisons = again.comparisons.slice(0, 1);
    await writeReports(again, join(dir, 'nested', 'out'));
    expect(await readFile(out.markdownPath, 'utf8')).toBe(renderMarkdown(again));
    expect((await readdir(join(dir, 'nested', 'out'))).sort()).toEqual(['regression-report.html', 'regression-report.md']);
  });

  it('rejects a basename with a path in it and writes nothing', async () => {
    await expect(writeReports(buildReport(), join(dir, 'bad'), { basename: '../escape' })).rejects.toThrow(/basename/);
    await expect(readdir(join(dir, 'bad'))).rejects.toThrow();
  });
});
