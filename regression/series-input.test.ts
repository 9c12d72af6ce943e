// Series from files (`perfstack history|compare --input`): both formats, missing runs, timestamps,
// clear errors, and the CLI giving byte for byte what the library gives.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './e2e-support.js';
import { compareSeries, historyOfSeries, parseSeriesText, seriesJsonLine } from './series-input.js';
import { createRandom, normalSeries } from './stats/synthetic.js';

const folder = mkdtempSync(join(tmpdir(), 'perfstack-series-input-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const settings = { direction: 'lower-is-better' as const, minEffect: 0.05, alpha: 0.01, noiseMultiple: 2 };
const flags = ['--min-effect', '0.05', '--alpha', '0.01', '--noise-multiple', '2', '--config', join(folder, 'no-config.ts')];

function stepped(seed: number, at: number, n: number, factor: number): number[] {
  const random = createRandom(seed);
  return [...normalSeries(random, at, 100, 1), ...normalSeries(random, n - at, 100 * factor, 1)];
}

describe('reading series', () => {
  it('JSON lines: null is a missing run, timestamps put points in time order, indices are the input’s', () => {
    const values: (number | null)[] = stepped(1, 20, 40, 1.2);
    values[5] = null;
    const text = `${JSON.stringify({ name: 'api p95', values })}\n\n${JSON.stringify({ name: 'late', values: [3, 1, 2], timestamps: ['2026-01-03', '2026-01-01', '2026-01-02'] })}\n`;
    const [first, second] = parseSeriesText(text, 'in.jsonl');
    expect(second).toEqual({ name: 'late', values: [1, 2, 3], timestamps: ['2026-01-01', '2026-01-02', '2026-01-03'] });
    const { output } = historyOfSeries(first!, settings);
    expect(output.map((c) => [c.index, c.kind])).toEqual([[20, 'step']]);
    // Without the missing run the change sits at position 19 of the values present; the output names the input's run 20.
    expect(seriesJsonLine('api p95', output)).toMatch(/^\{"name":"api p95","changes":\[\{"index":20,"kind":"step","relativeChange":0\.\d+,"pValue":[0-9.e-]+\}\]\}$/);
  });

  it('CSV, long (name,value[,timestamp]) and wide (one column per series)', () => {
    const long = parseSeriesText('timestamp,name,value\n2,a,1.5\n1,a,1\n1,b,7\n', 'long.csv');
    expect(long).toEqual([
      { name: 'a', values: [1, 1.5], timestamps: ['1', '2'] },
      { name: 'b', values: [7], timestamps: ['1'] },
    ]);
    const wide = parseSeriesText('run,checkout,search\n1,10,20\n2,,21\n3,12,"22"\n', 'wide.csv');
    expect(wide).toEqual([
      { name: 'checkout', values: [10, null, 12] },
      { name: 'search', values: [20, 21, 22] },
    ]);
  });

  it('bad input names the file, the line and the field', () => {
    expect(() => parseSeriesText('{"name":"a","values":[1,"x"]}', 'in.jsonl')).toThrow(/in\.jsonl:1: values\[1\] of "a" must be a finite number or null/);
    expect(() => parseSeriesText('{"name":"a","values":[1]}\n{"name":"a","values":[2]}', 'in.jsonl')).toThrow(/in\.jsonl:2: series "a" appears twice/);
    expect(() => parseSeriesText('{"values":[1]}', 'in.jsonl')).toThrow(/"name" must be a non-empty string/);
    expect(() => parseSeriesText('name,value\na,1\na,oops\n', 'in.csv')).toThrow(/in\.csv:3: column "value" must be a number, got "oops"/);
    expect(() => parseSeriesText('name,value\na,1,2\n', 'in.csv')).toThrow(/in\.csv:2: 3 columns, the header has 2/);
    expect(() => parseSeriesText('', 'empty.csv')).toThrow(/no series/);
  });
});

describe('compare on a series', () => {
  it('the last run against the runs before it, and insufficient data with one earlier run', () => {
    const values = stepped(3, 10, 11, 1.3);
    const { result, output } = compareSeries({ name: 'x', values }, { ...settings, baselineRuns: 5 });
    expect(result.verdict).toBe('regressed');
    expect(output).toEqual([{ index: 10, kind: 'step', relativeChange: expect.any(Number), pValue: expect.any(Number) }]);
    expect(compareSeries({ name: 'y', values: [1, 2] }, { ...settings, baselineRuns: 5 }).result.verdict).toBe('insufficient data');
  });
});

describe('the CLI and the library do the same thing', () => {
  const series = [
    { name: 'step', values: stepped(4, 30, 60, 1.1) },
    { name: 'noise', values: normalSeries(createRandom(5), 50, 100, 3) },
    { name: 'transient', values: stepped(6, 15, 40, 1).map((v, i) => (i >= 15 && i < 24 ? v * 1.15 : v)) },
  ];
  const file = join(folder, 'series.jsonl');
  writeFileSync(file, series.map((s) => JSON.stringify(s)).join('\n'));
  const library = series.map((s) => seriesJsonLine(s.name, historyOfSeries(s, settings).output)).join('\n') + '\n';

  it('perfstack history --input --json prints the library’s lines, byte for byte, every time', async () => {
    const first = await runCli(['history', '--input', file, '--json', ...flags]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(library);
    const second = await runCli(['history', '--input', file, '--json', ...flags]);
    expect(second.stdout).toBe(first.stdout);
    expect(library).toContain('"kind":"transient"');
  });

  it('perfstack compare --input exits 1 on a regression, 2 on bad input', async () => {
    const csv = join(folder, 'runs.csv');
    writeFileSync(csv, `name,value\n${stepped(7, 8, 9, 1.4).map((v) => `api,${v}`).join('\n')}\n`);
    const compared = await runCli(['compare', '--input', csv, '--json', ...flags]);
    expect(compared.code, compared.stderr).toBe(1);
    expect(JSON.parse(compared.stdout)).toMatchObject({ name: 'api', verdict: 'regressed', changes: [{ index: 8, kind: 'step' }] });
    const bad = join(folder, 'bad.csv');
    writeFileSync(bad, 'name,value\napi,fast\n');
    const failed = await runCli(['history', '--input', bad, ...flags]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain(`${bad}:2: column "value" must be a number, got "fast"`);
  });
});
