// runLoad(): one run of a k6 script on perfstack's engine. Loads and checks the script, runs
// setup, the scenarios' executors and teardown, judges the thresholds (aborting early where a
// threshold says so), and writes the outputs: handleSummary's files or summary.json, remote-write
// to Prometheus, per-request samples and the HTML report.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EXIT_CODES, LoadgenError, type ExitCode } from './errors.js';
import { createExecutor, parseExecutionSegment, wait, type ExecutorHost, type IterationOutcome } from './executors/index.js';
import { HttpClient, setHttpClient } from './k6/http.js';
import { moduleObjects } from './k6/modules.js';
import { MetricRegistry } from './metrics/registry.js';
import type { MetricType } from './metrics/types.js';
import { consolidateOptions, type ConsolidatedOptions, type ShortcutOverrides } from './options.js';
import { writeRunReport, type ReportInput } from './outputs/html-report/index.js';
import { startProgress } from './outputs/progress.js';
import { startRemoteWrite, type RemoteWriteStats } from './outputs/remote-write/index.js';
import { SamplesWriter } from './outputs/samples.js';
import { TimelineRecorder } from './outputs/timeline.js';
import { DEFAULT_SYSTEM_TAGS, RunContext, ScriptAbort, VirtualUser, iterationStorage, setActiveRun, type IterationContext, type ScenarioInfo } from './runtime/context.js';
import { loadScript, type LoadedScript } from './script/load.js';
import { buildSummary, type SummaryData } from './summary.js';
import { ThresholdError, evaluateThresholds, parseThresholds, type ThresholdEvaluation, type ThresholdSet } from './thresholds/index.js';
import { createBrowserModule, type BrowserHost } from './k6/browser/index.js';

export interface LoadRunOptions {
  /** The k6 script (TypeScript or JavaScript). */
  script: string;
  /** -e KEY=VALUE, layered over the process environment (k6 includes it too). */
  env?: Record<string, string>;
  /** --tag NAME=VALUE on every sample (testid, git_sha …). */
  tags?: Record<string, string>;
  /** --vus / --duration / --iterations with k6's meaning (they replace the script's scenarios). */
  overrides?: ShortcutOverrides;
  executionSegment?: string;
  executionSegmentSequence?: string;
  /** Where the engine writes summary.json when the script has no handleSummary (or writes elsewhere). */
  summaryPath?: string;
  remoteWrite?: { url: string; intervalMs?: number; trendStats: readonly string[] };
  samplesPath?: string;
  reportPath?: string;
  /** Report title and identity for the HTML report. */
  report?: { scenario: string; testid: string; gitSha: string };
  log?: (line: string) => void;
  /** Show progress: a redrawn bar on a terminal, or a log line every few seconds. */
  progress?: 'tty' | 'lines' | false;
  /** Stops the run as SIGINT stops k6: the summary is still written; exit 105. */
  signal?: AbortSignal;
  browser?: { executablePath: string; args: string[]; headless?: boolean };
}

export interface LoadRunResult {
  exitCode: ExitCode | 110;
  summary: SummaryData | undefined;
  evaluation: ThresholdEvaluation | undefined;
  /** Files handleSummary (or the engine) wrote. */
  written: string[];
  remoteWrite?: RemoteWriteStats;
  samplesPath?: string;
  reportPath?: string;
  /** Why the run ended early or failed, one line. */
  error?: string;
  iterations: { completed: number; interrupted: number; failed: number };
}

/** Browser metrics k6 defines when its browser module is in use; thresholds may name them up front. */
const BROWSER_METRICS: Record<string, MetricType> = {
  browser_web_vital_lcp: 'trend', browser_web_vital_fcp: 'trend', browser_web_vital_cls: 'trend', browser_web_vital_inp: 'trend',
  browser_web_vital_ttfb: 'trend', browser_web_vital_fid: 'trend', browser_http_req_duration: 'trend', browser_http_req_failed: 'rate',
  browser_data_received: 'counter', browser_data_sent: 'counter',
};

async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function withTimeout<T>(work: () => T | Promise<T>, ms: number, onTimeout: () => LoadgenError): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          clearTimeout(timer);
          resolvePromise(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
  });
}

export async function runLoad(options: LoadRunOptions): Promise<LoadRunResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stop = new AbortController();
  let stopReason: { code: ExitCode; message: string } | undefined;
  const stopWith = (code: ExitCode, message: string) => {
    if (stopReason) return;
    stopReason = { code, message };
    stop.abort();
  };
  const segment = parseExecutionSegment(options.executionSegment, options.executionSegmentSequence);
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  const registry = new MetricRegistry();
  const run = new RunContext({ registry, runTags: {}, systemTags: new Set(DEFAULT_SYSTEM_TAGS), env, abortTest: (reason) => stopWith(EXIT_CODES.scriptAborted, reason) });
  const http = new HttpClient();
  setActiveRun(run);
  setHttpClient(http);
  const browserHost: BrowserHost = {
    emit(metric, value, tags) {
      const defined = registry.define(metric.name, metric.type, metric.contains);
      run.emit(defined, value, run.tagSet(run.baseTags(), tags));
    },
    executablePath: options.browser?.executablePath ?? '/usr/bin/chromium',
    launchArgs: options.browser?.args ?? [],
    headless: options.browser?.headless ?? true,
    signal: stop.signal,
  };
  const browser = createBrowserModule(browserHost);
  const onExternalAbort = () => stopWith(EXIT_CODES.externalAbort, 'stopped from outside (interrupt)');
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });

  let script: LoadedScript | undefined;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  try {
    script = await loadScript(options.script, { env, modules: moduleObjects(browser.browser) });
    const loaded = script;
    const consolidated: ConsolidatedOptions = consolidateOptions(loaded.exports.options, options.overrides);
    run.options = consolidated.raw;
    run.configure({ ...consolidated.tags, ...options.tags }, new Set(consolidated.systemTags ?? DEFAULT_SYSTEM_TAGS));

    let thresholds: ThresholdSet;
    try {
      thresholds = parseThresholds(consolidated.thresholds, (name) => registry.get(name)?.info.type ?? BROWSER_METRICS[name]);
    } catch (error) {
      if (error instanceof ThresholdError) throw new LoadgenError(EXIT_CODES.invalidConfig, `options.${error.message}`);
      throw error;
    }
    for (const entry of thresholds) {
      const metric = registry.get(entry.metric) ?? registry.define(entry.metric, entry.type, entry.metric.startsWith('browser_') && entry.metric !== 'browser_web_vital_cls' ? 'time' : 'default');
      if (entry.key !== entry.metric) registry.subMetric(metric, entry.key, entry.tags);
    }
    for (const scenario of consolidated.scenarios) {
      if (typeof loaded.exports[scenario.exec] !== 'function') {
        const field = scenario.exec === 'default' ? 'the script has no default export function (or give the scenario an exec)' : `the script exports no function "${scenario.exec}"`;
        throw new LoadgenError(EXIT_CODES.invalidConfig, `options.scenarios.${scenario.name}.exec: ${field}`);
      }
    }
    return await execute(options, consolidated, thresholds, loaded, run, segment, stop, stopWith, () => stopReason, cleanups, log);
  } catch (error) {
    const failure = error instanceof LoadgenError ? error : new LoadgenError(EXIT_CODES.engine, `perfstack loadgen: ${(error as Error).message}`, undefined, { cause: error });
    return { exitCode: failure.exitCode, summary: undefined, evaluation: undefined, written: [], error: failure.message, iterations: { completed: 0, interrupted: 0, failed: 0 } };
  } finally {
    options.signal?.removeEventListener('abort', onExternalAbort);
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    await browser.close().catch(() => undefined);
    await http.close().catch(() => http.destroy());
    script?.dispose();
    setHttpClient(undefined);
    setActiveRun(undefined);
  }
}

async function execute(
  options: LoadRunOptions,
  consolidated: ConsolidatedOptions,
  thresholds: ThresholdSet,
  script: LoadedScript,
  run: RunContext,
  segment: ReturnType<typeof parseExecutionSegment>,
  stop: AbortController,
  stopWith: (code: ExitCode, message: string) => void,
  stopReason: () => { code: ExitCode; message: string } | undefined,
  cleanups: Array<() => Promise<unknown> | unknown>,
  log: (line: string) => void,
): Promise<LoadRunResult> {
  const { registry } = run;
  const exports = script.exports;
  const trendStats = consolidated.summaryTrendStats;
  const startedAt = Date.now();
  run.instance.startedAt = startedAt;
  const elapsed = () => Date.now() - startedAt;
  const counts = { completed: 0, interrupted: 0, failed: 0 };
  let vusActive = 0;
  let vusMax = 0;
  let nextVuId = 0;
  const errorsSeen = new Map<string, number>();

  const logScriptError = (error: unknown, stage: string) => {
    const message = (error as Error)?.message ?? String(error);
    const seen = (errorsSeen.get(message) ?? 0) + 1;
    errorsSeen.set(message, seen);
    if (seen > 3) return; // the same error once per iteration would drown the log
    const where = script.locate(error);
    log(`script error in ${stage}: ${message}${where ? ` at ${where.file}:${where.line}` : ''}${seen === 3 ? ' (repeats are counted, not shown)' : ''}`);
  };

  // Outputs that watch the whole run.
  const timeline = new TimelineRecorder(registry, () => ({ vus: vusActive, vusMax }));
  let timelineData: ReturnType<TimelineRecorder['stop']> | undefined;
  cleanups.push(() => (timelineData ??= timeline.stop()));
  const samples = options.samplesPath ? new SamplesWriter(registry, resolve(options.samplesPath)) : undefined;
  let samplesClosed: Promise<string> | undefined;
  if (samples) cleanups.push(() => (samplesClosed ??= samples.close()));
  const vuTags = () => run.tagSet(run.runTags);
  const sampleVus = () => {
    run.emit(run.builtin.vus, vusActive, vuTags());
    run.emit(run.builtin.vus_max, vusMax, vuTags());
  };
  const vuTimer = setInterval(sampleVus, 1000);
  vuTimer.unref();
  cleanups.push(() => clearInterval(vuTimer));
  const remoteWrite = options.remoteWrite
    ? startRemoteWrite({ url: options.remoteWrite.url, intervalMs: options.remoteWrite.intervalMs, trendStats: options.remoteWrite.trendStats, snapshot: () => registry.snapshot(), log })
    : undefined;
  let remoteStats: Promise<RemoteWriteStats> | undefined;
  if (remoteWrite) cleanups.push(() => (remoteStats ??= remoteWrite.stop()));

  const planned = Math.max(...consolidated.scenarios.map((s) => s.startTime + ('duration' in s ? s.duration : 'maxDuration' in s ? s.maxDuration : s.stages.reduce((sum, st) => sum + st.duration, 0))));
  const progress = options.progress
    ? startProgress(
        () => {
          const reqs = registry.get('http_reqs')?.total.values([], 0).count ?? 0;
          const failed = registry.get('http_req_failed')?.total.values([], 0).passes ?? 0;
          return { elapsedMs: elapsed(), plannedMs: planned, vus: vusActive, vusMax, requests: reqs, failedRequests: failed, iterations: counts.completed + counts.failed, dropped: registry.get('dropped_iterations')?.total.values([], 0).count ?? 0 };
        },
        log,
        { tty: options.progress === 'tty' },
      )
    : undefined;
  if (progress) cleanups.push(() => progress.stop());

  // setup(): its samples carry group "::setup", as k6's do.
  let setupData: unknown;
  if (typeof exports.setup === 'function') {
    const setup = exports.setup;
    const context: IterationContext = { vu: undefined, scenario: undefined, iterationInScenario: -1, iterationInTest: -1, group: '::setup', signal: stop.signal, stage: 'setup' };
    try {
      const value = await withTimeout(() => iterationStorage.run(context, setup), consolidated.setupTimeoutMs, () => new LoadgenError(EXIT_CODES.setupTimeout, `setup() did not finish within setupTimeout (${consolidated.setupTimeoutMs} ms)`));
      // k6 hands each VU a JSON copy of what setup() returned.
      setupData = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
    } catch (error) {
      if (error instanceof LoadgenError) throw error;
      const where = script.locate(error);
      throw new LoadgenError(EXIT_CODES.scriptException, `setup() failed: ${(error as Error)?.message ?? String(error)}`, where, { cause: error });
    }
  }

  const host: ExecutorHost = {
    segment,
    stopSignal: stop.signal,
    now: () => performance.now(),
    newVU(_slot) {
      nextVuId += 1;
      vusMax += 1;
      run.instance.vusInitialized = vusMax;
      // Fix: idInTest was the VU's slot within its scenario (slot + 1), so two scenarios running at
      // once gave out the same ids, and arrival-rate VUs of different instances too. k6 numbers
      // VUs across the whole test: the instance's n-th VU is the n-th index its segment owns.
      return new VirtualUser(nextVuId, segment.indexInTest(nextVuId - 1) + 1);
    },
    activeVUs(delta) {
      vusActive += delta;
      run.instance.vusActive = vusActive;
    },
    dropped(scenario: ScenarioInfo) {
      run.emit(run.builtin.dropped_iterations, 1, run.tagSet(run.baseTags({ vu: undefined, scenario, iterationInScenario: -1, iterationInTest: -1, group: '', signal: stop.signal, stage: 'default' })));
    },
    async runIteration(vu, scenario, iterationInScenario, iterationInTest, signal): Promise<IterationOutcome> {
      const config = consolidated.scenarios.find((s) => s.name === scenario.name);
      const fn = exports[config?.exec ?? 'default'] as (data: unknown) => unknown;
      // Fix: constant-vus and ramping-vus pass -1; their iterationInTest was the instance's own count,
      // repeated by every instance of a segmented test. The instance's n-th iteration is the n-th
      // index its segment owns (k6: unique across instances, with gaps).
      const context: IterationContext = { vu, scenario, iterationInScenario, iterationInTest: iterationInTest >= 0 ? iterationInTest : segment.indexInTest(iterationInScenario), group: '', signal, stage: 'default' };
      const started = performance.now();
      let outcome: IterationOutcome = 'completed';
      let onAbort: (() => void) | undefined;
      try {
        const result = iterationStorage.run(context, () => fn(setupData));
        if (result instanceof Promise || (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function')) {
          await Promise.race([
            result,
            new Promise((_, reject) => {
              onAbort = () => reject(new ScriptAbort('interrupted'));
              if (signal.aborted) onAbort();
              else signal.addEventListener('abort', onAbort, { once: true });
            }),
          ]);
        }
      } catch (error) {
        if (signal.aborted || error instanceof ScriptAbort) outcome = 'interrupted';
        else {
          outcome = 'failed';
          logScriptError(error, `${scenario.name} (VU ${vu.idInTest})`);
        }
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
      vu.iterationInInstance += 1;
      if (outcome === 'interrupted') {
        counts.interrupted += 1;
        run.instance.iterationsInterrupted += 1;
        return outcome;
      }
      if (outcome === 'failed') counts.failed += 1;
      else counts.completed += 1;
      run.instance.iterationsCompleted += 1;
      // k6 counts an iteration that threw as an iteration too; its error is in the log.
      const tags = run.tagSet(run.baseTags(context));
      run.emit(run.builtin.iteration_duration, performance.now() - started, tags);
      run.emit(run.builtin.iterations, 1, tags);
      return outcome;
    },
  };

  // abortOnFail: judge the thresholds every 2 s while the scenarios run.
  const abortable = thresholds.some((t) => t.expressions.some((e) => e.abortOnFail));
  const statsNeeded = [...new Set([...trendStats, 'p(90)', 'p(95)', 'p(99)', 'med', 'avg', 'min', 'max', ...thresholds.flatMap((t) => t.expressions.map((e) => e.stat))])];
  // Under an execution segment this instance sees its share of the test: counts and throughput are
  // judged as the whole test's (divided by the share), so `http_reqs: rate>50` means the same on
  // every instance as on one. Latencies, rates and gauges need no scaling.
  const valuesOf = (key: string) => {
    const values = registry.values(key, statsNeeded, elapsed());
    const metric = registry.get(key.split('{')[0] as string);
    if (!values || segment.isFull || metric?.info.type !== 'counter') return values;
    return { ...values, count: (values.count ?? 0) / segment.share, rate: (values.rate ?? 0) / segment.share };
  };
  const judge = () => evaluateThresholds(thresholds, (key) => valuesOf(key), elapsed());
  const abortTimer = abortable
    ? setInterval(() => {
        const evaluation = judge();
        if (evaluation.abort) {
          const first = evaluation.abortedBy[0];
          stopWith(EXIT_CODES.abortedByThreshold, `threshold ${first?.key} ${first?.expression} failed with abortOnFail; stopping the run`);
        }
      }, 2000)
    : undefined;
  abortTimer?.unref();

  sampleVus();
  await Promise.all(
    consolidated.scenarios.map(async (config) => {
      if (config.startTime > 0) await wait(config.startTime, stop.signal);
      if (stop.signal.aborted) return;
      await createExecutor(config, host).run();
    }),
  );
  clearInterval(abortTimer);
  sampleVus();
  if (stopReason()) log(`run stopped: ${stopReason()?.message}`);

  // teardown(data) runs even after an abort, as in k6.
  let teardownError: LoadgenError | undefined;
  if (typeof exports.teardown === 'function') {
    const teardown = exports.teardown;
    const context: IterationContext = { vu: undefined, scenario: undefined, iterationInScenario: -1, iterationInTest: -1, group: '::teardown', signal: new AbortController().signal, stage: 'teardown' };
    try {
      await withTimeout(() => iterationStorage.run(context, () => teardown(setupData)), consolidated.teardownTimeoutMs, () => new LoadgenError(EXIT_CODES.teardownTimeout, `teardown() did not finish within teardownTimeout (${consolidated.teardownTimeoutMs} ms)`));
    } catch (error) {
      teardownError = error instanceof LoadgenError ? error : new LoadgenError(EXIT_CODES.scriptException, `teardown() failed: ${(error as Error)?.message ?? String(error)}`, script.locate(error));
      log(teardownError.message);
    }
  }

  const durationMs = elapsed();
  const evaluation = judge();
  const summary = buildSummary({ registry, trendStats, elapsedMs: durationMs, evaluation, checkResults: run.checkResults, setupData });
  const written: string[] = [];
  let handled = false;
  if (typeof exports.handleSummary === 'function') {
    const handleSummary = exports.handleSummary;
    const context: IterationContext = { vu: undefined, scenario: undefined, iterationInScenario: -1, iterationInTest: -1, group: '', signal: new AbortController().signal, stage: 'summary' };
    try {
      const outputs = (await iterationStorage.run(context, () => handleSummary(summary))) as Record<string, unknown> | undefined;
      for (const [target, content] of Object.entries(outputs ?? {})) {
        const text = typeof content === 'string' ? content : content instanceof ArrayBuffer ? Buffer.from(content).toString('utf8') : JSON.stringify(content);
        if (target === 'stdout') process.stdout.write(text);
        else if (target === 'stderr') process.stderr.write(text);
        else {
          const path = resolve(target);
          await writeAtomically(path, text);
          written.push(path);
        }
      }
      handled = true;
    } catch (error) {
      log(`handleSummary() failed: ${(error as Error)?.message ?? String(error)}${script.locate(error) ? ` at ${script.locate(error)?.file}:${script.locate(error)?.line}` : ''}; writing the default summary`);
    }
  }
  if (options.summaryPath && !written.includes(resolve(options.summaryPath))) {
    await writeAtomically(resolve(options.summaryPath), `${JSON.stringify(summary, null, 2)}\n`);
    written.push(resolve(options.summaryPath));
  } else if (!handled && !options.summaryPath) {
    log(JSON.stringify(summary.metrics.http_reqs?.values ?? {}));
  }

  // Close the outputs: final remote-write push and stale markers, the samples file, the report.
  timelineData ??= timeline.stop();
  const stats = remoteWrite ? await (remoteStats ??= remoteWrite.stop()) : undefined;
  if (stats && stats.failedPushes > 0) log(`remote-write: ${stats.failedPushes} of ${stats.pushes + stats.failedPushes} pushes failed${stats.lastError ? ` (last: ${stats.lastError})` : ''}; the run itself is complete`);
  const samplesPath = samples ? await (samplesClosed ??= samples.close()) : undefined;
  let reportPath: string | undefined;
  if (options.reportPath) {
    reportPath = resolve(options.reportPath);
    const input: ReportInput = {
      title: `perfstack run: ${options.report?.scenario ?? script.path}`,
      testid: options.report?.testid ?? run.runTags.testid ?? '',
      scenario: options.report?.scenario ?? script.path,
      gitSha: options.report?.gitSha ?? run.runTags.git_sha ?? '',
      startedAt: new Date(startedAt).toISOString(),
      durationMs,
      timeline: timelineData,
      thresholds: thresholds.flatMap((t) =>
        t.expressions.map((e) => {
          const result = evaluation.results[t.key]?.[e.source];
          const metric = registry.get(t.metric)?.info;
          const unit = metric?.contains === 'time' && e.stat !== 'count' ? 'ms' : metric?.contains === 'data' ? 'bytes' : metric?.type === 'rate' ? 'ratio' : 'count';
          return { key: t.key, expression: e.source, ok: result?.ok ?? true, ...(result?.value === undefined ? {} : { value: result.value }), unit } as const;
        }),
      ),
      summaryRows: Object.entries(summary.metrics).map(([metric, m]) => ({ metric, values: m.values, type: m.type as MetricType, contains: m.contains as 'default' | 'time' | 'data' })),
      checks: [...run.checkResults.values()].flatMap((checks) => [...checks].map(([name, t]) => ({ name, passes: t.passes, fails: t.fails }))),
      notes: [
        ...(stats && stats.failedPushes > 0 ? [`${stats.failedPushes} of ${stats.pushes + stats.failedPushes} remote-write pushes failed`] : []),
        ...(stopReason() ? [stopReason()?.message ?? ''] : []),
        ...(counts.interrupted ? [`${counts.interrupted} iterations were interrupted`] : []),
      ],
    };
    await writeRunReport(reportPath, input).catch((error: unknown) => log(`report: ${(error as Error).message}`));
  }

  const reason = stopReason();
  let exitCode: LoadRunResult['exitCode'] = EXIT_CODES.ok;
  if (reason) exitCode = reason.code;
  else if (!evaluation.ok) exitCode = EXIT_CODES.thresholdsFailed;
  else if (teardownError) exitCode = teardownError.exitCode;
  else if (run.markedFailed) exitCode = 110; // k6: MarkedAsFailed
  return {
    exitCode,
    summary,
    evaluation,
    written,
    ...(stats ? { remoteWrite: stats } : {}),
    ...(samplesPath ? { samplesPath } : {}),
    ...(reportPath ? { reportPath } : {}),
    ...(reason ? { error: reason.message } : {}),
    iterations: counts,
  };
}
