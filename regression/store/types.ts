// The shapes the baseline store hands out. KPI names, RunMetadata and KpiValue come from the
// shared model in regression/kpi.ts.

import type { KpiName, KpiValue, RunMetadata } from '../kpi.js';

export type RunSource = 'k6-summary' | 'prometheus' | 'lighthouse';

/** A stored run. k6Version is null when the source did not say. */
export interface StoredRun extends Omit<RunMetadata, 'k6Version'> {
  id: number;
  k6Version: string | null;
  importedFrom: RunSource;
  createdAt: Date;
}

export interface RunWithKpis extends StoredRun {
  kpis: KpiValue[];
}

/** One histogram bucket: observations with value <= le and above the previous bucket's le (not cumulative). */
export interface HistogramBucket {
  le: number;
  count: number;
}

/** The distribution behind a KPI: per-request samples (seconds), or a histogram. */
export type StoredDistribution =
  | { kind: 'samples'; kpi: KpiName; endpoint: string; samples: number[] }
  | { kind: 'histogram'; kpi: KpiName; endpoint: string; buckets: HistogramBucket[] };

export interface Baseline {
  name: string;
  kind: 'pinned';
  testid: string;
  scenario: string;
  branch: string;
  createdAt: Date;
}

export interface KpiHistoryPoint {
  testid: string;
  startedAt: Date;
  value: number;
}

export interface ListRunsOptions {
  scenario?: string;
  branch?: string;
  /** Newest first; default 100. */
  limit?: number;
}

/**
 * "The last N runs of a branch" (oldest first) or "the run pinned under a name". `candidate` is the
 * testid being judged: it is never part of its own baseline, and when it is stored only runs that
 * started before it count. `environment` keeps the last-N runs to one environment.
 */
export type BaselineSelector =
  | { branch: string; lastN: number; environment?: string; candidate?: string }
  | { pinned: string; candidate?: string };
