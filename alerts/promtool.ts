import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AlertDefinition } from './rules/alert.js';
import { expandTemplate } from './rules/format.js';

// Runs promtool on generated rule and test files; used by the rules tests and the stack checks.

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export interface PromtoolResult {
  args: string[];
  code: number;
  output: string;
}

/** Runs `promtool <args>` in `cwd`, collecting stdout and stderr together. */
export function runPromtool(args: string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ args, code: code ?? 1, output }));
  });
}

/** One input of a promtool unit test of a single alert: its series, and the alerts expected then. */
export interface AlertTestCase {
  name: string;
  series: unknown;
  expAlerts: unknown[];
}

/**
 * Writes `ruleFiles` (name → content, e.g. generated rule files) and one promtool unit test into
 * `dir`, evaluating `alertname` at `evalMinutes` on 1-minute samples for each case, and runs
 * `promtool test rules` on it. For tests that go beyond the generated fixtures.
 */
export async function testAlertCases(options: {
  dir: string;
  ruleFiles: Record<string, string>;
  alertname: string;
  evalMinutes: number;
  cases: AlertTestCase[];
}): Promise<PromtoolResult> {
  const { dir, ruleFiles, alertname, evalMinutes, cases } = options;
  for (const [name, content] of Object.entries(ruleFiles)) await writeFile(join(dir, name), content);
  const testFile = `${alertname}.cases.test.yml`;
  const tests = cases.map((c) => ({
    name: c.name,
    interval: '1m',
    input_series: c.series,
    alert_rule_test: [{ eval_time: `${evalMinutes}m`, alertname, exp_alerts: c.expAlerts }],
  }));
  await writeFile(join(dir, testFile), stringify({ rule_files: Object.keys(ruleFiles), evaluation_interval: '1m', tests }));
  return runPromtool(['test', 'rules', testFile], dir);
}

/** What promtool should see of `alert` firing on series with `resultLabels` at `value`: its labels and expanded annotations. */
export function expectedAlert(alert: AlertDefinition, resultLabels: Record<string, string>, value: number): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } {
  return {
    exp_labels: { ...resultLabels, ...alert.labels },
    exp_annotations: Object.fromEntries(Object.entries(alert.annotations).map(([key, text]) => [key, expandTemplate(text, resultLabels, value)])),
  };
}
