import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../stack/index.js';
import { publishVerdicts, renderVerdictMetrics, type PublishedVerdict } from './publish.js';

const verdicts: PublishedVerdict[] = [
  { scenario: 'load', testid: 'run-2', baseline: 'last 5 on main', branch: 'main', kpi: 'latency_p95', endpoint: '/api/search', statistic: 'p95', verdict: 'regressed', candidateValue: 0.42, baselineValue: 0.3, relativeChange: 0.4 },
  { scenario: 'load', testid: 'run-2', baseline: 'last 5 on main', branch: 'main', kpi: 'throughput', endpoint: '', statistic: 'rate', verdict: 'unchanged', candidateValue: 101, baselineValue: 100, relativeChange: 0.01 },
];

describe('verdict metrics', () => {
  it('passes promtool check metrics and carries one series per KPI', () => {
    const text = renderVerdictMetrics(verdicts, new Date('2026-11-22T12:00:00Z'));
    const check = runTool('promtool', ['check', 'metrics'], { input: text });
    expect(check.output).toBe('');
    expect(check.ok).toBe(true);
    expect(text).toContain('perfstack_regression_detected{scenario="load",testid="run-2",baseline="last 5 on main",branch="main",kpi="latency_p95",endpoint="/api/search",statistic="p95"} 1');
    expect(text).toContain('perfstack_regression_detected{scenario="load",testid="run-2",baseline="last 5 on main",branch="main",kpi="throughput",endpoint="",statistic="rate"} 0');
    expect(text).toContain('perfstack_regression_compared_timestamp_seconds{scenario="load"} 1795348800');
  });

  it('escapes label values and writes the file atomically, replacing the last comparison', () => {
    const folder = mkdtempSync(join(tmpdir(), 'perfstack-textfile-'));
    try {
      const odd = { ...verdicts[0]!, endpoint: 'a "quoted"\\path' };
      const path = publishVerdicts(folder, 'load', [odd]);
      publishVerdicts(folder, 'load', verdicts);
      expect(readdirSync(folder)).toEqual(['perfstack_regression_load.prom']);
      expect(readFileSync(path, 'utf8')).not.toContain('quoted');
      const escaped = renderVerdictMetrics([odd], new Date(0));
      expect(escaped).toContain('endpoint="a \\"quoted\\"\\\\path"');
      expect(runTool('promtool', ['check', 'metrics'], { input: escaped }).ok).toBe(true);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
