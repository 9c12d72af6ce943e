// One `perfstack audit`: Lighthouse on the page, the budgets, the reports on disk, and the run in
// the baseline store (scenario lighthouse:<path>) so `compare` and `history` judge it.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { PerfstackConfig } from '../config/index.js';
import { openBaselineStore } from '../regression/index.js';
import { auditKpiValues, auditScenario, checkBudgets, type BudgetCheck } from './budgets.js';
import { auditPage, type AuditOptions, type AuditResult } from './lighthouse.js';

export interface RunAuditOptions extends Omit<AuditOptions, 'runs'> {
  config: PerfstackConfig;
  /** Default config.frontend.audit.runs. */
  runs?: number;
  testid?: string;
  /** lighthouse.html, lighthouse.json and audit.json go here. */
  outputDir: string;
  /** The baseline store; nothing is stored without it. */
  storeUrl?: string;
  branch?: string;
  gitSha?: string;
}

export interface RunAuditResult {
  testid: string;
  scenario: string;
  audit: AuditResult;
  budgets: BudgetCheck[];
  passed: boolean;
  /** Where the run was stored, or why it was not. */
  stored: { ok: true } | { ok: false; reason: string };
  files: { html: string; json: string; summary: string };
}

function writeAtomically(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

/** A testid that sorts by time, like a load run's: 20261206T231500Z-lighthouse-3f9a. */
export function newAuditTestId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-lighthouse-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}

export async function runAudit(options: RunAuditOptions): Promise<RunAuditResult> {
  const runs = options.runs ?? options.config.frontend.audit.runs;
  const audit = await auditPage({ ...options, runs });
  const budgets = checkBudgets(audit.metrics, options.config.frontend);
  const testid = options.testid ?? newAuditTestId(audit.startedAt);
  const scenario = auditScenario(audit.url, audit.preset);

  mkdirSync(options.outputDir, { recursive: true });
  const files = { html: join(options.outputDir, 'lighthouse.html'), json: join(options.outputDir, 'lighthouse.json'), summary: join(options.outputDir, 'audit.json') };
  writeAtomically(files.html, audit.reportHtml);
  writeAtomically(files.json, audit.reportJson);
  const summary = { testid, scenario, url: audit.url, preset: audit.preset, lighthouseVersion: audit.lighthouseVersion, startedAt: audit.startedAt, endedAt: audit.endedAt, metrics: audit.metrics, runs: audit.runs, budgets };
  writeAtomically(files.summary, `${JSON.stringify(summary, null, 2)}\n`);

  let stored: RunAuditResult['stored'] = { ok: false, reason: 'no baseline store (--store-url, PERFSTACK_STORE_URL, DATABASE_URL or a running native stack)' };
  if (options.storeUrl) {
    const store = openBaselineStore(options.storeUrl);
    try {
      await store.migrate();
      await store.importMeasuredRun(
        {
          testid,
          scenario,
          gitSha: options.gitSha ?? 'unknown',
          branch: options.branch ?? 'main',
          startedAt: audit.startedAt,
          endedAt: audit.endedAt,
          environment: hostname(),
          k6Version: `lighthouse ${audit.lighthouseVersion}`,
        },
        auditKpiValues(audit.metrics),
        'lighthouse',
      );
      stored = { ok: true };
    } catch (error) {
      stored = { ok: false, reason: (error as Error).message };
    } finally {
      await store.close().catch(() => undefined);
    }
  }
  return { testid, scenario, audit, budgets, passed: budgets.every((b) => b.passed), stored, files };
}
