import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, type ToolResult } from '../stack/index.js';

export interface CheckStep {
  name: string;
  result: ToolResult;
}

/** The validations promtool and amtool offer, run over the generated tree under root. */
export function validationSteps(root: string): CheckStep[] {
  const prometheus = join(root, 'provisioning/prometheus');
  const testsFolder = join(prometheus, 'tests');
  const testFiles = existsSync(testsFolder)
    ? readdirSync(testsFolder).filter((f) => f.endsWith('.test.yml')).sort().map((f) => join(testsFolder, f))
    : [];
  const steps: CheckStep[] = [
    { name: 'promtool check config (with its rule files)', result: runTool('promtool', ['check', 'config', join(prometheus, 'prometheus.yml')]) },
    { name: 'amtool check-config', result: runTool('amtool', ['check-config', join(root, 'provisioning/alertmanager/alertmanager.yml')]) },
  ];
  if (testFiles.length > 0) {
    steps.push({ name: `promtool test rules (${testFiles.length} files)`, result: runTool('promtool', ['test', 'rules', ...testFiles]) });
  }
  return steps;
}

/** Prints each step's verdict; returns true when all pass. */
export function checkGenerated(root: string): boolean {
  let allPassed = true;
  for (const step of validationSteps(root)) {
    console.log(`${step.result.ok ? 'PASS' : 'FAIL'}  ${step.name}`);
    if (!step.result.ok) {
      allPassed = false;
      console.log(step.result.output.replace(/^/gm, '      '));
    }
  }
  return allPassed;
}
