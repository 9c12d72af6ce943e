import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  CHECK_IDS,
  FINDING_CATALOGUE,
  PLAYBOOK_PATH,
  compareFindings,
  filterColumns,
  k6RunRange,
  parseDurationSeconds,
  parseTime,
  playbookAnchor,
  renderAnalysisMarkdown,
  whereClauses,
  type AnalysisReport,
  type Finding,
  type PrometheusClient,
} from './index.js';

// Pure parts of the analysis; analyze-live.test.ts runs it against a live stack.

describe('filterColumns', () => {
  it('finds the filtered column of a WHERE clause, equality first', () => {
    expect(filterColumns('SELECT * FROM big WHERE k = $1')).toEqual(['k']);
    expect(filterColumns('SELECT id FROM big b WHERE b.created_at > $2 AND b.k = $1 ORDER BY id LIMIT $3')).toEqual(['k', 'created_at']);
    expect(filterColumns('SELECT * FROM t WHERE status IN ($1, $2) AND name ILIKE $3')).toEqual(['status', 'name']);
  });

  it('keeps only the table columns when they are known, and reads a plan filter', () => {
    expect(filterColumns('SELECT * FROM big JOIN other o ON o.id = big.id WHERE o.flag = $1 AND big.k = $2', { columns: ['id', 'k', 'v'] })).toEqual(['k']);
    expect(filterColumns('SELECT * FROM big WHERE lower(v) = $1', { columns: ['id', 'k', 'v'], planFilters: ['(k = $1)'] })).toEqual(['k']);
    expect(filterColumns('SELECT * FROM big')).toEqual([]);
  });

  it('cuts WHERE clauses at ORDER BY, LIMIT and friends', () => {
    expect(whereClauses('SELECT * FROM a WHERE x = $1 ORDER BY y LIMIT 3').map((c) => c.trim())).toEqual(['x = $1']);
  });
});

describe('time ranges', () => {
  it('parses durations and times, naming the flag on bad input', () => {
    expect(parseDurationSeconds('15m')).toBe(900);
    expect(parseDurationSeconds('2h', '--last')).toBe(7200);
    expect(() => parseDurationSeconds('15 minutes', '--last')).toThrow(/--last must be a duration/);
    expect(parseTime('2024-05-01T12:00:00Z', '--start').toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(() => parseTime('yesterday', '--start')).toThrow(/--start must be an ISO 8601 time/);
  });

  it("takes a k6 run's range from the first and last k6_vus sample", async () => {
    const queries: string[] = [];
    const fake = (points: [number, number][]): PrometheusClient => ({
      url: 'http://prometheus.test',
      instant: async () => [],
      raw: async (query) => {
        queries.push(query);
        return points.length ? [{ labels: { testid: 'run-1' }, points }] : [];
      },
      ping: async () => undefined,
    });
    const range = await k6RunRange(fake([[1000, 1], [1100, 5], [1300, 0]]), 'run-1');
    // The start moves back by the push interval (the smallest gap, 100 s), which the first sample covers.
    expect([range.start.getTime(), range.end.getTime(), range.testid]).toEqual([900_000, 1_300_000, 'run-1']);
    expect(queries[0]).toMatch(/^k6_vus\{testid="run-1"\}\[\d+s\]$/);
    await expect(k6RunRange(fake([]), 'nope"x')).rejects.toThrow(/no k6 run with testid "nope"x"/);
    expect(queries[1]).toContain('testid="nope\\"x"');
  });
});

function finding(partial: Partial<Finding> & Pick<Finding, 'severity' | 'impact'>): Finding {
  return { check: 'seq-scan', title: `t ${partial.severity} ${partial.impact}`, evidence: [], recommendation: 'do it', ...partial };
}

describe('the report', () => {
  it('sorts findings by severity, then impact', () => {
    const sorted = [
      finding({ severity: 'info', impact: 50 }),
      finding({ severity: 'warning', impact: 2 }),
      finding({ severity: 'critical', impact: 1.1 }),
      finding({ severity: 'warning', impact: 9 }),
    ].sort(compareFindings);
    expect(sorted.map((f) => `${f.severity}:${f.impact}`)).toEqual(['critical:1.1', 'warning:9', 'warning:2', 'info:50']);
  });

  it('renders evidence, recommendations, checked sections and not-measured ones', () => {
    const report: AnalysisReport = {
      prometheusUrl: 'http://127.0.0.1:9090',
      start: '2024-05-01T12:00:00.000Z',
      end: '2024-05-01T12:15:00.000Z',
      rangeSeconds: 900,
      testid: 'run-1',
      generatedAt: '2024-05-01T12:16:00.000Z',
      database: 'not given',
      routes: [{ job: 'app', route: '/api/x', service: 'api', requestsPerSecond: 10, requests: 9000, busySeconds: 1, meanSeconds: 0.1, p95Seconds: 0.3, share: 1 }],
      findings: [
        finding({
          severity: 'warning',
          impact: 2,
          title: 'Sequential scans on a big table: public.big',
          evidence: [
            { kind: 'promql', query: 'increase(pg_stat_user_tables_seq_scan[900s])', value: '600 scans' },
            { kind: 'sql', statement: 'EXPLAIN SELECT * FROM big WHERE k = $1', result: 'Seq Scan on big Filter: (k = $1)' },
          ],
          recommendation: 'Add an index on big(k)',
        }),
      ],
      sections: [
        { check: 'pool-wait', name: FINDING_CATALOGUE['pool-wait'].section, status: 'ok', findings: [], measured: [{ kind: 'promql', query: 'q1', value: 'p95 wait 1 ms' }], notMeasured: [] },
        { check: 'cpu', name: FINDING_CATALOGUE.cpu.section, status: 'not-measured', findings: [], measured: [], notMeasured: [{ kind: 'promql', query: 'q2', value: 'not measured (node_exporter not scraped)' }] },
      ],
    };
    const md = renderAnalysisMarkdown(report);
    expect(md).toContain('k6 run `run-1`');
    expect(md).toContain('| /api/x | api | 9000 | 10 | 100 ms | 300 ms | 100 % |');
    expect(md).toContain('### 1. [WARNING] Sequential scans on a big table: public.big');
    expect(md).toContain('- `increase(pg_stat_user_tables_seq_scan[900s])` → 600 scans');
    expect(md).toContain('- `EXPLAIN SELECT * FROM big WHERE k = $1` → `Seq Scan on big Filter: (k = $1)`');
    expect(md).toContain('**Recommendation:** Add an index on big(k)');
    expect(md).toContain(`(${PLAYBOOK_PATH}#sequential-scans-on-a-big-table)`);
    expect(md).toContain('**Connection pool**: no finding');
    expect(md).toContain('**CPU**: not measured — not a sign of health.');
  });
});

describe('the playbook', () => {
  it('has a heading per finding title, so every report link lands', () => {
    const guide = readFileSync(new URL('../../docs/performance_optimization_guide.md', import.meta.url), 'utf8');
    const headings = [...guide.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    for (const id of CHECK_IDS) expect(headings, id).toContain(FINDING_CATALOGUE[id].title);
    expect(playbookAnchor('N+1 query pattern')).toBe('n1-query-pattern');
  });
});
