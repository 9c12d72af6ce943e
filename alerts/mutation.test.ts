// Mutation check: the promtool tests must pin every alert's threshold and `for:` from both sides.
// For each alert, a copy of the generated rules gets one change — the threshold 20 % up or down
// (twice the fixtures' 10 % margin; a zero threshold moves to ±1), or `for:` one evaluation
// longer or shorter — and promtool runs that alert's own tests against it. Every mutant must make
// promtool fail ("killed"); one that passes means a test cannot tell the change apart.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../config/index.js';
import rawConfig from '../perfstack.config.js';
import { runPromtool } from './promtool.js';
import { alertTestGroups, type AlertDefinition, type RuleFile } from './rules/alert.js';
import { FIXTURE_INTERVAL_MINUTES } from './rules/fixtures.js';
import { promDuration, promNumber } from './rules/format.js';
import { alertId, generateRules, ruleFiles, RULES_DIR, thresholdText } from './rules/index.js';

const config = parseConfig(rawConfig);
const root = mkdtempSync(join(tmpdir(), 'perfstack-mutants-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Mutant {
  alert: AlertDefinition;
  file: RuleFile;
  what: string;
  /** The alert's rule with the change; undefined for the unchanged control. */
  change?: { expr?: string; for?: string };
}

interface RuleYaml {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  return JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b).sort());
}

function mutants(): Mutant[] {
  const out: Mutant[] = [];
  for (const file of ruleFiles(config)) {
    for (const alert of file.groups.flatMap((g) => g.alerts ?? [])) {
      // One unchanged control per file is enough to prove the per-alert test files are sound.
      if (alert === file.groups.flatMap((g) => g.alerts ?? [])[0]) out.push({ alert, file, what: 'unchanged (control)' });
      const threshold = alert.threshold;
      if (threshold) {
        const moved = threshold.value === 0 ? [1, -1] : [threshold.value * 1.2, threshold.value * 0.8];
        for (const value of moved) {
          const text = threshold.op ? `${threshold.op} ${promNumber(value)}` : promNumber(value);
          out.push({ alert, file, what: `threshold ${thresholdText(threshold)} → ${text}`, change: { expr: alert.expr.split(thresholdText(threshold)).join(text) } });
        }
      }
      const longer = alert.forMinutes + FIXTURE_INTERVAL_MINUTES;
      out.push({ alert, file, what: `for ${promDuration(alert.forMinutes)} → ${promDuration(longer)}`, change: { for: promDuration(longer) } });
      if (alert.forMinutes >= FIXTURE_INTERVAL_MINUTES) {
        const shorter = alert.forMinutes - FIXTURE_INTERVAL_MINUTES;
        out.push({ alert, file, what: `for ${promDuration(alert.forMinutes)} → ${promDuration(shorter)}`, change: { for: promDuration(shorter) } });
      }
    }
  }
  return out;
}

const generated = generateRules(config);

/** Writes the rules (one rule changed) and a test file with only that alert's tests; true when promtool passes. */
async function survives(mutant: Mutant, index: number): Promise<{ passed: boolean; output: string }> {
  const dir = join(root, String(index));
  mkdirSync(join(dir, 'rules'), { recursive: true });
  for (const file of generated.filter((f) => f.path.startsWith(`${RULES_DIR}/`))) {
    const name = file.path.split('/').pop()!;
    let content = file.content;
    if (mutant.change && name === `${mutant.file.name}.yml`) {
      const document = parse(content) as { groups: { name: string; rules: RuleYaml[] }[] };
      const rule = document.groups.flatMap((g) => g.rules).find((r) => r.alert === mutant.alert.name && sameLabels(r.labels, mutant.alert.labels));
      if (!rule) throw new Error(`rule ${alertId(mutant.alert)} not found`);
      if (mutant.change.expr !== undefined) rule.expr = mutant.change.expr;
      if (mutant.change.for !== undefined) rule.for = mutant.change.for;
      content = stringify(document, { lineWidth: 0 });
    }
    writeFileSync(join(dir, 'rules', name), content);
  }
  const testFile = parse(generated.find((f) => f.path.endsWith(`/${mutant.file.name}.test.yml`))!.content) as Record<string, unknown>;
  testFile.rule_files = [...mutant.file.dependsOn, mutant.file.name].map((name) => `rules/${name}.yml`);
  testFile.tests = alertTestGroups(mutant.alert);
  writeFileSync(join(dir, 'test.yml'), stringify(testFile, { lineWidth: 0 }));
  const result = await runPromtool(['test', 'rules', 'test.yml'], dir);
  return { passed: result.code === 0, output: result.output };
}

async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

describe('promtool tests pin every threshold and for: (mutation check)', () => {
  it('kills every mutant, and passes an unchanged alert of every file', async () => {
    const all = mutants();
    const results = await pool(all, Math.max(2, availableParallelism()), (m, i) => survives(m, i));
    const controls = all.map((m, i) => ({ m, r: results[i]! })).filter(({ m }) => !m.change);
    const failingControls = controls.filter(({ r }) => !r.passed).map(({ m, r }) => `${alertId(m.alert)}: ${r.output}`);
    expect(failingControls, 'unchanged alerts must pass their own tests').toEqual([]);
    const real = all.map((m, i) => ({ m, r: results[i]! })).filter(({ m }) => m.change);
    const survivors = real.filter(({ r }) => r.passed).map(({ m }) => `${alertId(m.alert)}: ${m.what}`);
    const killed = real.length - survivors.length;
    const withoutThreshold = [...new Set(all.filter((m) => !m.alert.threshold).map((m) => m.alert.name))];
    console.log(
      `promtool mutation check: ${killed} / ${real.length} mutants killed` +
        ` (${new Set(all.map((m) => alertId(m.alert))).size} alerts; no threshold to move, so only for: is mutated: ${withoutThreshold.join(', ')})`,
    );
    expect(survivors).toEqual([]);
    expect(killed).toBeGreaterThan(new Set(all.map((m) => alertId(m.alert))).size * 2);
  }, 600_000);
});
