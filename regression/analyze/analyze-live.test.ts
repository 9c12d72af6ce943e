import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import pg from 'pg';
import defaults from '../../perfstack.config.js';
import { parseConfig, renderYaml } from '../../config/index.js';
import { startApp, type RunningApp } from '../../app/index.js';
import { startPgStatsExporter, type PgStatsExporter } from '../../exporters/index.js';
import { freePort, nodeExporterLaunch, prometheusConfig, prometheusLaunch, startLaunch, type RunningProcess } from '../../stack/index.js';
import type { TestPostgres } from '../../test/support/postgres.js';
import { startSeededPostgres } from '../../test/support/seeded-postgres.js';
import { registerAnalyzeCommand } from '../../cli/commands/analyze.js';
import { analyze, renderAnalysisMarkdown, type AnalysisReport } from './index.js';

// A live set-up with a real bottleneck: PostgreSQL, the reference service with a pool of 2, the
// pg-stats exporter and node_exporter, scraped every second by Prometheus. A quiet phase (light,
// sequential traffic) is followed by a loaded one: concurrent requests that queue for the 2 pool
// connections, and direct queries filtering an unindexed column of a 50 000-row table.

const config = parseConfig(defaults);
const BIG_ROWS = 50_000;

interface Phase {
  start: Date;
  end: Date;
}

/** Runs `workers` loops of `work` until `ms` have passed; the loops stop by themselves. */
async function during(ms: number, workers: number, work: (worker: number) => Promise<unknown>): Promise<number> {
  const deadline = Date.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (Date.now() < deadline) {
        await work(worker).catch(() => undefined);
        done += 1;
      }
    }),
  );
  return done;
}

describe('perfstack analyze against a live stack with a real bottleneck', () => {
  let postgres: TestPostgres;
  let app: RunningApp | undefined;
  let pgStats: PgStatsExporter | undefined;
  let nodeExporter: RunningProcess | undefined;
  let prometheus: RunningProcess | undefined;
  let prometheusUrl: string;
  let root: string;
  let quiet: Phase;
  let loaded: Phase;
  let quietReport: AnalysisReport;
  let loadedReport: AnalysisReport;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'perfstack-analyze-'));
    postgres = await startSeededPostgres();
    await postgres.query(`CREATE TABLE big (id int PRIMARY KEY, k int NOT NULL, v text NOT NULL)`);
    await postgres.query(`INSERT INTO big SELECT g, g % 5000, md5(g::text) FROM generate_series(1, ${BIG_ROWS}) g`);
    await postgres.query('ANALYZE big');

    app = await startApp({ databaseUrl: postgres.url, config, port: 0, poolMax: 2, log: () => undefined });
    pgStats = await startPgStatsExporter({ databaseUrl: postgres.url, port: 0, config, showQueryText: true, log: () => undefined });
    const nodePort = await freePort();
    nodeExporter = await startLaunch('node-exporter', nodePort, nodeExporterLaunch({ port: nodePort }));
    mkdirSync(join(root, 'rules'));
    const prometheusPort = await freePort();
    const configFile = join(root, 'prometheus.yml');
    writeFileSync(
      configFile,
      renderYaml(
        prometheusConfig(
          { ...config, scrape: { interval: '1s', evaluationInterval: '1s' } },
          {
            serviceTargets: Object.fromEntries(config.services.map((s) => [s.job, `127.0.0.1:${app!.port}`])),
            pgStats: `127.0.0.1:${pgStats.port}`,
            nodeExporter: `127.0.0.1:${nodePort}`,
            prometheus: `127.0.0.1:${prometheusPort}`,
            alertmanager: '127.0.0.1:1',
          },
          `${join(root, 'rules')}/*.yml`,
        ),
      ),
    );
    prometheus = await startLaunch('prometheus', prometheusPort, prometheusLaunch({ configFile, dataDir: join(root, 'data'), port: prometheusPort }));
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;

    // Wait until the service and pg-stats are scraped.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = (await (await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent('up{job=~"perfstack-app|pg-stats"}')}`)).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      if (response.data.result.length === 2 && response.data.result.every((r) => r.value[1] === '1')) break;
      if (Date.now() > deadline) throw new Error('Prometheus did not scrape the service and pg-stats within 20 s');
      await sleep(300);
    }

    const api = app.url;
    // Warm the pool, then the quiet phase: one request at a time, a few per second.
    for (let i = 0; i < 5; i++) await fetch(`${api}/api/entities?limit=5`);
    await sleep(1500);
    const quietStart = new Date();
    await during(8_000, 1, async (i) => {
      await (await fetch(`${api}/api/entities/${(i % 100) + 1}`)).arrayBuffer();
      await (await fetch(`${api}/api/entities?limit=5`)).arrayBuffer();
      await sleep(150);
    });
    await sleep(1500);
    quiet = { start: quietStart, end: new Date() };

    // The loaded phase: 16 concurrent clients on a pool of 2, plus direct queries on big.k.
    const direct = new pg.Pool({ connectionString: postgres.url, max: 4 });
    const loadedStart = new Date();
    try {
      await Promise.all([
        during(12_000, 16, async (worker) => {
          const path = worker % 2 === 0 ? '/api/search?q=acme' : '/api/entities?limit=50';
          await (await fetch(`${api}${path}`)).arrayBuffer();
        }),
        during(12_000, 4, async () => direct.query('SELECT * FROM big WHERE k = $1', [Math.floor(Math.random() * 5000)])),
      ]);
    } finally {
      await direct.end();
    }
    await sleep(2500);
    loaded = { start: loadedStart, end: new Date() };

    [quietReport, loadedReport] = await Promise.all([
      analyze({ prometheusUrl, start: quiet.start, end: quiet.end, config, databaseUrl: postgres.url }),
      analyze({ prometheusUrl, start: loaded.start, end: loaded.end, config, databaseUrl: postgres.url }),
    ]);
    if (process.env.PERFSTACK_ANALYZE_EXAMPLE) {
      writeFileSync(process.env.PERFSTACK_ANALYZE_EXAMPLE, renderAnalysisMarkdown(loadedReport));
      writeFileSync(`${process.env.PERFSTACK_ANALYZE_EXAMPLE}.quiet.md`, renderAnalysisMarkdown(quietReport));
    }
  });

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    await pgStats?.stop();
    await app?.stop();
    await postgres?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('reports sequential scans on the big table and recommends an index on k', () => {
    const seq = loadedReport.findings.filter((f) => f.check === 'seq-scan');
    const big = seq.find((f) => f.subject?.startsWith('public.big'));
    expect(big, renderAnalysisMarkdown(loadedReport)).toBeDefined();
    expect(big!.severity).not.toBe('info');
    expect(big!.recommendation).toContain('Add an index on big(k)');
    expect(big!.recommendation).toContain('CREATE INDEX CONCURRENTLY big_k_idx ON public.big (k)');
    // Evidence: the PromQL with its value, the table size, and the plan line.
    expect(big!.evidence.some((e) => e.kind === 'promql' && e.query.includes('pg_stat_user_tables_seq_scan'))).toBe(true);
    expect(big!.evidence.some((e) => e.kind === 'sql' && e.result.includes('50,000 live rows'))).toBe(true);
    expect(big!.evidence.some((e) => e.kind === 'sql' && /Seq Scan on big .*Filter: \(k = \$1\)/.test(e.result))).toBe(true);
    // The small seeded tables are not findings.
    expect(seq.filter((f) => !f.subject?.startsWith('public.big'))).toEqual([]);
  });

  it('reports the pool of 2 as a pool-wait finding with its maximum and headroom', () => {
    const pool = loadedReport.findings.find((f) => f.check === 'pool-wait');
    expect(pool, renderAnalysisMarkdown(loadedReport)).toBeDefined();
    expect(pool!.subject).toContain('perfstack-app');
    expect(pool!.recommendation).toMatch(/^Raise the pool maximum from 2 \(db_client_connection_max\) if the database has headroom/);
    expect(pool!.evidence.some((e) => e.kind === 'promql' && e.query.includes('db_client_connection_wait_time_seconds_bucket'))).toBe(true);
  });

  it('orders findings by severity, then impact', () => {
    const order = { critical: 0, warning: 1, info: 2 } as const;
    const ranks = loadedReport.findings.map((f) => order[f.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  it('reports neither in a quiet run, and says both were checked', () => {
    const md = renderAnalysisMarkdown(quietReport);
    expect(quietReport.findings.filter((f) => f.check === 'seq-scan' || f.check === 'pool-wait'), md).toEqual([]);
    const status = Object.fromEntries(quietReport.sections.map((s) => [s.check, s.status]));
    expect(status['seq-scan']).toBe('ok');
    expect(status['pool-wait']).toBe('ok');
    expect(md).toContain('**Sequential scans**: no finding');
    expect(md).toContain('**Connection pool**: no finding');
    // Where the time goes: the routes that carried the traffic.
    expect(quietReport.routes.map((r) => r.route)).toEqual(expect.arrayContaining(['/api/entities', '/api/entities/:id']));
  });

  it('without a database URL names the table from the exported statement text, and says the size is not measured', async () => {
    const report = await analyze({ prometheusUrl, start: loaded.start, end: loaded.end, config });
    expect(report.database).toBe('not given');
    const big = report.findings.find((f) => f.check === 'seq-scan' && f.subject?.startsWith('public.big'));
    expect(big, renderAnalysisMarkdown(report)).toBeDefined();
    expect(big!.recommendation).toContain('Add an index on big(k)');
    const section = report.sections.find((s) => s.check === 'seq-scan')!;
    expect(section.notMeasured.some((e) => e.kind === 'note' && e.text.includes('size of public.big'))).toBe(true);
  });

  it('reports queries without data as not measured, never as healthy', async () => {
    // A range before anything was scraped.
    const end = new Date(quiet.start.getTime() - 3_600_000);
    const report = await analyze({ prometheusUrl, start: new Date(end.getTime() - 60_000), end, config });
    expect(report.findings).toEqual([]);
    expect(report.sections.every((s) => s.status === 'not-measured')).toBe(true);
    const md = renderAnalysisMarkdown(report);
    expect(md).toContain('not measured — not a sign of health');
    expect(md).not.toContain('no finding (');
  });

  it('the CLI writes the report atomically with --out', async () => {
    const out = join(root, 'reports', 'analysis.md');
    const program = new Command().exitOverride();
    registerAnalyzeCommand(program);
    const log: string[] = [];
    const original = console.log;
    console.log = (line: string) => log.push(line);
    try {
      await program.parseAsync(['analyze', '--prometheus-url', prometheusUrl, '--start', loaded.start.toISOString(), '--end', loaded.end.toISOString(), '--database-url', postgres.url, '--out', out], { from: 'user' });
    } finally {
      console.log = original;
    }
    const md = readFileSync(out, 'utf8');
    expect(md).toMatch(/^# Bottleneck analysis\n/);
    expect(md).toContain('Sequential scans on a big table: public.big');
    expect(log.join('\n')).toMatch(/analyze: \d+ findings .* written to /);
  });
});
