// What a running script can reach: the VU and iteration it runs in (through AsyncLocalStorage, so
// it survives every await), and the run it belongs to (metrics, tags, options, abort).

import { AsyncLocalStorage } from 'node:async_hooks';
import { BUILTIN_METRICS, type BuiltinMetricName } from '../metrics/builtin.js';
import type { Metric, MetricRegistry, TagSet } from '../metrics/registry.js';
import type { Tags } from '../metrics/types.js';

/** A virtual user. One object per VU for the whole run; iterations reuse it. */
export class VirtualUser {
  iterationInInstance = 0;
  /** vu.metrics.tags / vu.tags: tags the script sets on this VU's samples. */
  readonly tags: Record<string, string> = {};
  /** vu.metrics.metadata: kept but never a label. */
  readonly metadata: Record<string, string> = {};
  constructor(
    readonly idInInstance: number,
    readonly idInTest: number,
  ) {}
}

/** One scenario as the script sees it through k6/execution. */
export interface ScenarioInfo {
  name: string;
  executor: string;
  /** Epoch ms when the scenario started. */
  startTime: number;
  /** 0..1 through the scenario's schedule. */
  progress(): number;
  /** Iterations started so far in this instance. */
  iterationsStarted: number;
  /** Scenario `tags` option. */
  tags: Tags;
  /** Scenario `env` option, layered over the run's. */
  env: Record<string, string>;
}

/** Where a piece of script code is running right now. */
export interface IterationContext {
  vu: VirtualUser | undefined;
  scenario: ScenarioInfo | undefined;
  /** Iteration index within the scenario (in this instance), or -1 outside iterations. */
  iterationInScenario: number;
  /** Iteration index within the scenario across every instance (execution segments), or -1. */
  iterationInTest: number;
  /** k6 group path: "" at the top, "::outer::inner" inside groups. */
  group: string;
  /** Aborted when the iteration is interrupted (gracefulStop, abortOnFail, test.abort). */
  signal: AbortSignal;
  stage: 'init' | 'setup' | 'default' | 'teardown' | 'summary';
}

export const iterationStorage = new AsyncLocalStorage<IterationContext>();

export class ScriptAbort extends Error {
  override name = 'ScriptAbort';
}

export interface RunContextOptions {
  registry: MetricRegistry;
  /** Tags on every sample of the run (--tag testid=… git_sha=…, options.tags). */
  runTags: Tags;
  /** Which system tags to attach (options.systemTags); undefined = k6's defaults. */
  systemTags: ReadonlySet<string>;
  env: Record<string, string>;
  /** Called when the script asks to stop the whole test (exec.test.abort). */
  abortTest(reason: string): void;
}

/** k6's default system tags (k6 options reference). */
export const DEFAULT_SYSTEM_TAGS = [
  'proto', 'subproto', 'status', 'method', 'url', 'name', 'group', 'check', 'error', 'error_code', 'tls_version', 'scenario', 'service', 'expected_response',
] as const;

export class RunContext {
  readonly registry: MetricRegistry;
  readonly builtin: Record<BuiltinMetricName, Metric>;
  runTags: Tags;
  systemTags: ReadonlySet<string>;
  readonly env: Record<string, string>;
  readonly abortTest: (reason: string) => void;
  /** What k6/execution's `instance` reports; the runner keeps it current. */
  readonly instance = { iterationsCompleted: 0, iterationsInterrupted: 0, vusActive: 0, vusInitialized: 0, startedAt: 0 };
  /** The consolidated options (exec.test.options). */
  options: Readonly<Record<string, unknown>> = {};
  /** Check outcomes by group path, then check name (the summary's root_group). */
  readonly checkResults = new Map<string, Map<string, { passes: number; fails: number }>>();
  /** Set by exec.test.fail(): the run ends with a failing exit code whatever the thresholds say. */
  markedFailed = false;
  /** Base tag objects per (scenario, group, vu tags) so each sample does not rebuild them. */
  private readonly baseCache = new Map<string, Tags>();
  private readonly setCache = new WeakMap<Tags, Map<string, TagSet>>();

  constructor(options: RunContextOptions) {
    this.registry = options.registry;
    this.runTags = options.runTags;
    this.systemTags = options.systemTags;
    this.env = options.env;
    this.abortTest = options.abortTest;
    const builtin = {} as Record<BuiltinMetricName, Metric>;
    for (const [name, [type, contains]] of Object.entries(BUILTIN_METRICS)) builtin[name as BuiltinMetricName] = this.registry.define(name, type, contains);
    this.builtin = builtin;
  }

  /** Sets the run's tags once the script's options are known; base tags are rebuilt from them. */
  configure(runTags: Tags, systemTags: ReadonlySet<string>): void {
    this.runTags = runTags;
    this.systemTags = systemTags;
    this.baseCache.clear();
  }

  current(): IterationContext | undefined {
    return iterationStorage.getStore();
  }

  /** The tags every sample in this context carries: run tags, scenario (and its tags), group, VU tags. */
  baseTags(context = this.current()): Tags {
    const scenario = context?.scenario;
    const vuTags = context?.vu?.tags;
    const vuKey = vuTags && Object.keys(vuTags).length > 0 ? JSON.stringify(vuTags) : '';
    const key = `${scenario?.name ?? ''}\u0000${context?.group ?? ''}\u0000${vuKey}`;
    let base = this.baseCache.get(key);
    if (!base) {
      const tags: Record<string, string> = { ...this.runTags };
      if (scenario) {
        Object.assign(tags, scenario.tags);
        if (this.systemTags.has('scenario')) tags.scenario = scenario.name;
      }
      if (this.systemTags.has('group') && context && context.stage !== 'init') tags.group = context.group;
      if (vuTags) Object.assign(tags, vuTags);
      base = Object.freeze(tags);
      this.baseCache.set(key, base);
    }
    return base;
  }

  /** An interned tag set of the base tags plus a few more (extra wins). */
  tagSet(base: Tags, extra?: Tags): TagSet {
    if (!extra) return this.registry.tagSet(base);
    let byExtra = this.setCache.get(base);
    if (!byExtra) {
      byExtra = new Map();
      this.setCache.set(base, byExtra);
    }
    let key = '';
    for (const name in extra) key += `${name}\u0000${extra[name]}\u0001`;
    let set = byExtra.get(key);
    if (!set) {
      set = this.registry.tagSet({ ...base, ...extra });
      byExtra.set(key, set);
    }
    return set;
  }

  emit(metric: Metric, value: number, tags: TagSet, timeMs = Date.now()): void {
    this.registry.add(metric, value, tags, timeMs);
  }
}

let active: RunContext | undefined;

/** The run the k6 modules talk to; one at a time per process. */
export function activeRun(): RunContext {
  if (!active) throw new Error('perfstack loadgen: no run is active (k6 modules work only inside a run)');
  return active;
}

export function setActiveRun(run: RunContext | undefined): void {
  active = run;
}
