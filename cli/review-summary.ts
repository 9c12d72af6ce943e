import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import type { GeneratedFile } from '../config/index.js';
import { openRenderer, parseTime, problemsOf, provisionedDatasources, startViewer, viewQuery, type Renderer, type Viewer } from '../viewer/index.js';

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

// ---- before/after images of the panels a change touches (`perfstack summary --images DIR`) ------

export interface ChangedPanel {
  dashboard: string;
  panel: string;
  change: 'added' | 'removed' | 'changed';
  /** Which parts changed (queries, thresholds, unit, visualisation). */
  what: string[];
  before?: { uid: string; id: string };
  after?: { uid: string; id: string };
}

interface PanelPlace {
  uid: string;
  id: string;
  panel: PanelLike;
}

function placesOf(files: Files): Map<string, PanelPlace & { dashboard: string; title: string }> {
  const out = new Map<string, PanelPlace & { dashboard: string; title: string }>();
  for (const [path, content] of files) {
    if (!path.startsWith('provisioning/grafana/dashboards/') || !path.endsWith('.json')) continue;
    const dashboard = JSON.parse(content) as { uid: string; title: string; panels?: (PanelLike & { id?: number })[] };
    const visit = (panel: PanelLike & { id?: number }) => {
      if (panel.type === 'row') (panel.panels ?? []).forEach(visit);
      else out.set(`"${dashboard.title}" panel "${panel.title}"`, { uid: dashboard.uid, id: String(panel.id ?? ''), panel, dashboard: dashboard.title, title: panel.title ?? '' });
    };
    (dashboard.panels ?? []).forEach(visit);
  }
  return out;
}

/** The panels added, removed or changed between two sets of generated files (as the summary reports them). */
export function changedPanels(before: Files, after: Files): ChangedPanel[] {
  const old = placesOf(before);
  const now = placesOf(after);
  const out: ChangedPanel[] = [];
  for (const [key, place] of now) {
    const previous = old.get(key);
    const what = previous ? describePanelChange(previous.panel, place.panel) : [];
    if (previous && what.length === 0) continue;
    out.push({
      dashboard: place.dashboard,
      panel: place.title,
      change: previous ? 'changed' : 'added',
      what,
      ...(previous ? { before: { uid: previous.uid, id: previous.id } } : {}),
      after: { uid: place.uid, id: place.id },
    });
  }
  for (const [key, place] of old) if (!now.has(key)) out.push({ dashboard: place.dashboard, panel: place.title, change: 'removed', what: [], before: { uid: place.uid, id: place.id } });
  return out.sort((a, b) => `${a.dashboard} ${a.panel}`.localeCompare(`${b.dashboard} ${b.panel}`));
}

export interface PanelImagesOptions {
  outDir: string;
  /** Prometheus both sides are drawn from (the same live data). */
  prometheusUrl: string;
  /** Start of the time range (default now-1h); the end is now. Both sides use the same absolute range. */
  from?: string;
  /** Shown on the pages, e.g. the base revision. */
  baseLabel?: string;
  log?: (line: string) => void;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'panel';
}

function writeDashboards(files: Files, folder: string): void {
  for (const [path, content] of files) {
    if (!path.startsWith('provisioning/grafana/')) continue;
    const target = join(folder, path.slice('provisioning/grafana/'.length));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/**
 * Draws each changed panel twice, from the base revision's dashboard JSON and from the working
 * tree's, against the same Prometheus and the same absolute time range, and writes
 * DIR/<dashboard uid>/<panel>.before.png and .after.png, plus DIR/README.md pairing them.
 * Returns the Markdown.
 */
export async function writePanelImages(before: Files, after: Files, options: PanelImagesOptions): Promise<string> {
  const log = options.log ?? console.log;
  const changes = changedPanels(before, after);
  mkdirSync(options.outDir, { recursive: true });
  if (changes.length === 0) {
    const text = '## Dashboard panels, before and after\n\nNo panel changed.\n';
    writeFileSync(join(options.outDir, 'README.md'), text);
    return text;
  }
  const now = Date.now();
  const from = parseTime(options.from ?? 'now-1h', now);
  if (from === undefined || from >= now) throw new Error(`--from ${options.from}: not a time before now (now-1h, epoch ms or an ISO date)`);
  const work = mkdtempSync(join(tmpdir(), 'perfstack-summary-images-'));
  const viewers: Viewer[] = [];
  let renderer: Renderer | undefined;
  try {
    const sides = { before, after };
    const urls: Record<string, string> = {};
    for (const [side, files] of Object.entries(sides)) {
      writeDashboards(files, join(work, side));
      // Datasources from the working tree (the base revision may predate a datasource change; the data is the same).
      writeDashboards(new Map([...after].filter(([path]) => path.startsWith('provisioning/grafana/datasources/'))), join(work, side));
      const viewer = await startViewer({
        dashboardsDir: join(work, side, 'dashboards'),
        datasources: provisionedDatasources(join(work, side, 'datasources'), options.prometheusUrl),
        port: 0,
        label: side === 'before' ? `before (${options.baseLabel ?? 'base'})` : 'after (working tree)',
        log: () => undefined,
      });
      viewers.push(viewer);
      urls[side] = viewer.url;
    }
    renderer = await openRenderer();
    const lines = ['## Dashboard panels, before and after', '', `Drawn from ${options.prometheusUrl}, ${new Date(from).toISOString()} to ${new Date(now).toISOString()}.`, ''];
    for (const change of changes) {
      const uid = (change.after ?? change.before)!.uid;
      const folder = join(options.outDir, slug(uid));
      mkdirSync(folder, { recursive: true });
      const cells: string[] = [];
      for (const side of ['before', 'after'] as const) {
        const place = change[side];
        if (!place) {
          cells.push(side === 'before' ? '(new panel)' : '(removed)');
          continue;
        }
        const file = join(folder, `${slug(change.panel)}.${side}.png`);
        const url = `${urls[side]}/d/${encodeURIComponent(place.uid)}?${viewQuery({ from: String(from), to: String(now), panel: place.id })}`;
        const page = await renderer.shoot(url, file, { panel: place.id, width: 1200 });
        const problems = problemsOf(page, place.id);
        log(`wrote ${file}${problems.length ? ` (${problems.join('; ')})` : ''}`);
        cells.push(`![${side}](${relative(options.outDir, file)})${problems.length ? `<br>${problems.join('; ')}` : ''}`);
      }
      lines.push(`### ${change.dashboard}: ${change.panel} (${change.change}${change.what.length ? `: ${change.what.join('; ')}` : ''})`, '', '| before | after |', '| --- | --- |', `| ${cells.join(' | ')} |`, '');
    }
    const text = `${lines.join('\n')}\n`;
    writeFileSync(join(options.outDir, 'README.md'), text);
    return text;
  } finally {
    await renderer?.close();
    for (const viewer of viewers) await viewer.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
