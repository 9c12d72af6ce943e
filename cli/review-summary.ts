import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import type { GeneratedFile } from '../config/index.js';

// A plain-language account of what a change does to the generated output, for a PR description:
// which alerts, recording rules, panels, routes and k6 thresholds were added, removed or changed.

type Files = Map<string, string>;

interface RuleLike {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface PanelLike {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: { value: number | null }[] } } };
  panels?: PanelLike[];
}

function rulesOf(files: Files): Map<string, RuleLike> {
  const rules = new Map<string, RuleLike>();
  for (const [path, content] of files) {
    if (!path.startsWith('provisioning/prometheus/rules/')) continue;
    const document = parse(content) as { groups?: { rules?: RuleLike[] }[] } | null;
    for (const rule of (document?.groups ?? []).flatMap((group) => group.rules ?? [])) {
      const identity = Object.entries(rule.labels ?? {})
        .filter(([key]) => key !== 'team')
        .map(([key, value]) => `${key}=${value}`)
        .sort()
        .join(', ');
      rules.set(`${rule.alert ? 'alert' : 'recording rule'} ${rule.alert ?? rule.record}${identity ? ` {${identity}}` : ''}`, rule);
    }
  }
  return rules;
}

function panelsOf(files: Files): Map<string, PanelLike> {
  const panels = new Map<string, PanelLike>();
  for (const [path, content] of files) {
    if (!path.startsWith('provisioning/grafana/dashboards/') || !path.endsWith('.json')) continue;
    const dashboard = JSON.parse(content) as { title: string; panels?: PanelLike[] };
    const visit = (panel: PanelLike) => {
      if (panel.type === 'row') (panel.panels ?? []).forEach(visit);
      else panels.set(`"${dashboard.title}" panel "${panel.title}"`, panel);
    };
    (dashboard.panels ?? []).forEach(visit);
  }
  return panels;
}

function thresholdsOf(panel: PanelLike): string {
  return (panel.fieldConfig?.defaults?.thresholds?.steps ?? [])
    .map((step) => step.value)
    .filter((value): value is number => value !== null)
    .join(', ');
}

function describeRuleChange(before: RuleLike, after: RuleLike): string[] {
  const changes: string[] = [];
  if (before.expr !== after.expr) changes.push(`expression \`${before.expr}\` → \`${after.expr}\``);
  if (before.for !== after.for) changes.push(`for ${before.for ?? '0s'} → ${after.for ?? '0s'}`);
  for (const key of new Set([...Object.keys(before.labels ?? {}), ...Object.keys(after.labels ?? {})])) {
    if (before.labels?.[key] !== after.labels?.[key]) changes.push(`label ${key} ${before.labels?.[key] ?? '(none)'} → ${after.labels?.[key] ?? '(none)'}`);
  }
  if (before.annotations?.summary !== after.annotations?.summary) changes.push('summary text');
  if (before.annotations?.description !== after.annotations?.description) changes.push('description text');
  return changes;
}

function describePanelChange(before: PanelLike, after: PanelLike): string[] {
  const changes: string[] = [];
  const queries = (panel: PanelLike) => (panel.targets ?? []).map((t) => t.expr ?? '').join('\n');
  if (queries(before) !== queries(after)) changes.push('queries');
  if (thresholdsOf(before) !== thresholdsOf(after)) changes.push(`thresholds ${thresholdsOf(before) || '(none)'} → ${thresholdsOf(after) || '(none)'}`);
  if (before.fieldConfig?.defaults?.unit !== after.fieldConfig?.defaults?.unit) changes.push(`unit ${before.fieldConfig?.defaults?.unit} → ${after.fieldConfig?.defaults?.unit}`);
  if (before.type !== after.type) changes.push(`visualisation ${before.type} → ${after.type}`);
  return changes;
}

function compareMaps<T>(before: Map<string, T>, after: Map<string, T>, describeChange: (a: T, b: T) => string[]): string[] {
  const lines: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (!old) lines.push(`- added ${key}`);
    else {
      const changes = describeChange(old, value);
      if (changes.length > 0) lines.push(`- changed ${key}: ${changes.join('; ')}`);
    }
  }
  for (const key of before.keys()) if (!after.has(key)) lines.push(`- removed ${key}`);
  return lines.sort();
}

function k6Thresholds(files: Files): Map<string, string[]> {
  const content = files.get('k6/thresholds.json');
  if (!content) return new Map();
  const document = JSON.parse(content) as Record<string, Record<string, string[]> | string>;
  return new Map(
    Object.entries(document).flatMap(([group, map]) => (typeof map === 'string' ? [] : Object.entries(map).map(([key, value]) => [`k6 ${group} threshold ${key}`, value] as const))),
  );
}

/** Markdown: one section per kind of generated output that changed; says so when nothing did. */
export function reviewSummary(before: Files, after: Files): string {
  const sections: [string, string[]][] = [
    ['Prometheus rules', compareMaps(rulesOf(before), rulesOf(after), describeRuleChange)],
    ['Dashboards', compareMaps(panelsOf(before), panelsOf(after), describePanelChange)],
    [
      'k6 thresholds',
      compareMaps(k6Thresholds(before), k6Thresholds(after), (a, b) => (a.join(' ') === b.join(' ') ? [] : [`${a.join(', ')} → ${b.join(', ')}`])),
    ],
  ];
  const routing = 'provisioning/alertmanager/alertmanager.yml';
  if (before.get(routing) !== after.get(routing)) sections.push(['Alertmanager routing', ['- alertmanager.yml changed: review routes, receivers and timings in the diff']]);
  const changed = sections.filter(([, lines]) => lines.length > 0);
  if (changed.length === 0) return '## Generated output\n\nNo change to rules, dashboards, routing or k6 thresholds.\n';
  return `## Generated output\n\n${changed.map(([title, lines]) => `### ${title}\n\n${lines.join('\n')}\n`).join('\n')}`;
}

export function filesFromGenerated(files: GeneratedFile[]): Files {
  return new Map(files.map((file) => [file.path, file.content]));
}

/** The committed generated files at a git revision. */
export function filesAtRevision(revision: string, paths: string[]): Files {
  const files: Files = new Map();
  for (const path of paths) {
    try {
      files.set(path, execFileSync('git', ['show', `${revision}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      // not present at that revision: it was added since
    }
  }
  return files;
}

/** Paths of generated files at a revision, so removed files are seen too. */
export function generatedPathsAtRevision(revision: string): string[] {
  try {
    return execFileSync('git', ['ls-tree', '-r', '--name-only', revision, '--', 'provisioning', 'k6/thresholds.json'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    throw new Error(`--base ${revision}: not a git revision here (${(error as Error).message.split('\n')[0]})`);
  }
}
