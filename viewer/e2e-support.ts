// Helpers of test/e2e-viewer.test.ts: the end-to-end stack of test/support/e2e-stack.ts, fed by a
// k6 smoke run and a published regression verdict, so every generated dashboard has data.
//
// The verdict goes the way `perfstack compare` publishes it: a .prom file in node_exporter's
// textfile-collector folder (regression/publish.ts). The shared e2e stack starts node_exporter
// without that folder, so this starts its own node_exporter with it and points Prometheus's `node`
// job at it (rewrite prometheus.yml, POST /-/reload).

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderYaml } from '../config/index.js';
import { INFRASTRUCTURE_JOBS } from '../metrics/index.js';
import type { RunScenarioResult } from '../k6/index.js';
import { publishVerdicts, type PublishedVerdict } from '../regression/index.js';
import { freePort, nodeExporterLaunch, startLaunch } from '../stack/index.js';
import { config, everyRoute, instantQuery, smokeRunOnStack, startE2eStack, waitUntil, type E2eStack } from '../test/support/e2e-stack.js';

export interface FedStack {
  stack: E2eStack;
  k6: RunScenarioResult;
  testid: string;
  /** Epoch seconds before the first request. */
  startedAt: number;
  stop(): Promise<void>;
}

/** The stack, a smoke run, a request on every route, and a published verdict; resolves when the SLO rules and the verdict are in Prometheus. */
export async function startFedStack(name: string, testid: string): Promise<FedStack> {
  const startedAt = Date.now() / 1000;
  const stack = await startE2eStack({ name });
  const stops: (() => Promise<void>)[] = [() => stack.stop()];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    // node_exporter with the textfile collector, scraped as the `node` job.
    const textfileDir = join(stack.root, 'textfile');
    const verdicts: PublishedVerdict[] = [
      { scenario: 'smoke', testid, baseline: 'last 5 on main', branch: 'main', kpi: 'latency_p95', endpoint: '/api/search', statistic: 'p95', verdict: 'regressed', candidateValue: 0.42, baselineValue: 0.3, relativeChange: 0.4 },
      { scenario: 'smoke', testid, baseline: 'last 5 on main', branch: 'main', kpi: 'throughput', endpoint: 'all', statistic: 'rate', verdict: 'unchanged', candidateValue: 101, baselineValue: 100, relativeChange: 0.01 },
    ];
    publishVerdicts(textfileDir, 'smoke', verdicts);
    const nodePort = await freePort();
    const node = await startLaunch('node-exporter', nodePort, nodeExporterLaunch({ port: nodePort, textfileDir }));
    stops.push(() => node.stop());
    const configFile = join(stack.root, 'prometheus.yml');
    const prometheusYml = parse(readFileSync(configFile, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const nodeJob = prometheusYml.scrape_configs.find((job) => job.job_name === INFRASTRUCTURE_JOBS.nodeExporter);
    if (!nodeJob) throw new Error(`prometheus.yml has no ${INFRASTRUCTURE_JOBS.nodeExporter} job`);
    nodeJob.static_configs = [{ targets: [`127.0.0.1:${nodePort}`] }];
    writeFileSync(configFile, renderYaml(prometheusYml));
    const reload = await fetch(`${stack.prometheusUrl}/-/reload`, { method: 'POST' });
    if (!reload.ok) throw new Error(`Prometheus reload: HTTP ${reload.status}`);

    await everyRoute(stack.app.url, 1);
    const k6 = await smokeRunOnStack(stack, testid);
    await everyRoute(stack.app.url, 2);
    await waitUntil(
      'every SLO has a finite 30d error ratio, node_exporter is up and the verdict is scraped',
      async () => {
        const slo = await instantQuery(stack.prometheusUrl, 'slo:sli_error:ratio_rate30d');
        const finite = new Set(slo.filter((s) => Number.isFinite(Number(s.value[1]))).map((s) => s.metric.slo));
        const verdict = await instantQuery(stack.prometheusUrl, 'perfstack_regression_detected');
        const cpu = await instantQuery(stack.prometheusUrl, 'node_cpu_seconds_total');
        return config.slos.every((s) => finite.has(s.name)) && verdict.length === verdicts.length && cpu.length > 0;
      },
      45_000,
    );
    await everyRoute(stack.app.url, 3);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a few more scrapes after the last request
    return { stack, k6, testid, startedAt, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
