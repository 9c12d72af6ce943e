// The viewer's page: the dashboard list, and a dashboard drawn from its provisioned JSON —
// rows, panels, template variables, the time picker, auto-refresh, links and annotations.
// Everything it cannot honour is shown in a box; window.perfstackViewer reports what each panel
// queried and drew (tests and snapshots read it).

import * as api from './api.js';
import { renderBarGauge, renderGauge, renderStat, renderTable, renderTimeseries, type RenderContext, type RenderResult, type ThresholdMark } from './panels.js';
import { annotationEvents, hasData, toSeries, type Series } from '../shared/data.js';
import { allPanels, sections, type Annotation, type Dashboard, type DashboardEntry, type DataSourceRef, type DatasourceInfo, type Panel, type Variable } from '../shared/model.js';
import { checkAnnotation, checkPanel, checkVariable } from '../shared/support.js';
import {
  builtInVariables,
  interpolate,
  legendName,
  parseDuration,
  parseVariableQuery,
  queryTiming,
  referencedVariables,
  resolveRange,
  shapeOptions,
  type TimeRange,
  type VariableValue,
} from '../shared/template.js';

// ---- what the page reports ----------------------------------------------------------------------

export interface PanelReport {
  id: string;
  title: string;
  type: string;
  /** loading, ok (drawn with data), empty (no data), error, unsupported (type not drawn), collapsed (in a closed row). */
  state: 'loading' | 'ok' | 'empty' | 'error' | 'unsupported' | 'collapsed';
  queries: { refId: string; expr: string; datasource: string; instant: boolean; step?: number }[];
  errors: string[];
  unsupported: string[];
  series: number;
  thresholds: ThresholdMark[];
}

interface ViewerReport {
  dashboard?: string;
  settled: boolean;
  pending: number;
  panels: Record<string, PanelReport>;
  variables: Record<string, { options: string[]; current: string[]; isAll: boolean; error?: string }>;
  annotations: { name: string; events: number; error?: string }[];
  notices: string[];
}

declare global {
  interface Window {
    perfstackViewer: ViewerReport;
  }
}

const report: ViewerReport = { settled: false, pending: 0, panels: {}, variables: {}, annotations: [], notices: [] };
window.perfstackViewer = report;

let pending = 0;
function track<T>(promise: Promise<T>): Promise<T> {
  pending++;
  report.pending = pending;
  report.settled = false;
  document.body.dataset.settled = 'false';
  const done = () => {
    pending--;
    report.pending = pending;
    if (pending === 0) {
      // Let the renderers' layout pass finish first.
      requestAnimationFrame(() => {
        if (pending === 0) {
          report.settled = true;
          document.body.dataset.settled = 'true';
        }
      });
    }
  };
  promise.then(done, done);
  return promise;
}

/** At most this many queries in flight (Prometheus is shared with the rest of the stack). */
const MAX_CONCURRENT = 6;
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    queue.shift()?.();
  }
}

// ---- small DOM helpers --------------------------------------------------------------------------

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | undefined)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== undefined) node.append(child);
  return node;
}

function box(kind: 'unsupported' | 'error', text: string): HTMLElement {
  return h('div', { class: `box ${kind}`, role: kind === 'error' ? 'alert' : 'note' }, text);
}

// ---- state --------------------------------------------------------------------------------------

interface VariableState {
  def: Variable;
  options: { text: string; value: string }[];
  value: VariableValue;
  error?: string;
  control?: HTMLElement;
}

interface PanelView {
  key: string;
  panel: Panel;
  element: HTMLElement;
  body: HTMLElement;
  notices: HTMLElement;
  result?: RenderResult;
  generation: number;
  report: PanelReport;
  unsupported: string[];
  typeSupported: boolean;
}

const state = {
  dashboard: undefined as Dashboard | undefined,
  entries: [] as DashboardEntry[],
  datasources: [] as DatasourceInfo[],
  variables: new Map<string, VariableState>(),
  rawRange: { from: 'now-1h', to: 'now' },
  range: undefined as TimeRange | undefined,
  refreshMs: 0,
  timer: undefined as number | undefined,
  views: new Map<string, PanelView>(),
  annotations: [] as RenderContext['annotations'],
  disabledAnnotations: new Set<string>(),
  soloPanel: undefined as string | undefined,
};

const params = () => new URLSearchParams(location.search);

function setParams(update: (p: URLSearchParams) => void): void {
  const p = params();
  update(p);
  history.replaceState(null, '', `${location.pathname}?${p.toString()}`);
}

// ---- datasources and variables ------------------------------------------------------------------

function variableValues(): Record<string, VariableValue> {
  const out: Record<string, VariableValue> = {};
  for (const [name, v] of state.variables) out[name] = v.value;
  return out;
}

function defaultDatasource(): DatasourceInfo | undefined {
  return state.datasources.find((d) => d.isDefault) ?? state.datasources[0];
}

/** The datasource a panel, target, variable or annotation points at (after $datasource is filled in). */
function resolveDatasource(ref: DataSourceRef | string | null | undefined): DatasourceInfo {
  const wanted = typeof ref === 'string' ? ref : ref?.uid;
  if (!wanted || wanted === 'default') return defaultDatasource()!;
  const uid = interpolate(wanted, variableValues());
  const found = state.datasources.find((d) => d.uid === uid) ?? state.datasources.find((d) => d.name === uid);
  if (!found) throw new Error(`datasource "${uid}" is not known to the viewer (known: ${state.datasources.map((d) => d.uid).join(', ')})`);
  return found;
}

function currentValues(def: Variable): string[] {
  const value = def.current?.value;
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function customOptions(query: string): { text: string; value: string }[] {
  return query
    .split(/(?<!\\),/)
    .map((part) => part.replace(/\\,/g, ',').trim())
    .filter(Boolean)
    .map((part) => {
      const pair = /^(.*?)\s+:\s+(.*)$/.exec(part);
      return pair ? { text: pair[1]!, value: pair[2]! } : { text: part, value: part };
    });
}

async function variableOptions(def: Variable): Promise<{ text: string; value: string }[]> {
  const range = state.range!;
  const query = typeof def.query === 'string' ? def.query : '';
  switch (def.type) {
    case 'datasource': {
      const type = query || 'prometheus';
      const names = shapeOptions(state.datasources.filter((d) => d.type === type).map((d) => d.name), def.regex);
      return names.map((name) => ({ text: name, value: state.datasources.find((d) => d.name === name)!.uid }));
    }
    case 'custom':
    case 'interval':
      return customOptions(query);
    case 'constant':
      return [{ text: query, value: query }];
    case 'textbox': {
      const value = currentValues(def)[0] ?? query;
      return [{ text: value, value }];
    }
    case 'query': {
      const parsed = parseVariableQuery(def.query);
      if (!parsed) throw new Error(`variable $${def.name}: query "${String(typeof def.query === 'string' ? def.query : JSON.stringify(def.query))}" is not label_values(), query_result(), metrics() or label_names()`);
      const ds = resolveDatasource(def.datasource);
      const vars = variableValues();
      const start = range.from / 1000;
      const end = range.to / 1000;
      let values: string[];
      if (parsed.kind === 'label_values') values = await limited(() => api.labelValues(ds.uid, parsed.label, parsed.match ? interpolate(parsed.match, vars) : undefined, start, end));
      else if (parsed.kind === 'label_names') values = await limited(() => api.labelNames(ds.uid, parsed.match ? interpolate(parsed.match, vars) : undefined, start, end));
      else if (parsed.kind === 'metrics') {
        const names = await limited(() => api.labelValues(ds.uid, '__name__', undefined, start, end));
        const re = new RegExp(parsed.regex || '.*');
        values = names.filter((n) => re.test(n));
      } else {
        const data = await limited(() => api.instantQuery(ds.uid, interpolate(parsed.expr, vars), end));
        values = toSeries(data, 'A').map((s) => `${legendName(undefined, s.labels)} ${s.values[0] ?? ''} ${Math.round((s.times[0] ?? 0) * 1000)}`);
      }
      return shapeOptions(values, def.regex, def.sort).map((v) => ({ text: v, value: v }));
    }
    default:
      return [];
  }
}

/** Loads a variable's options and settles its selection (URL, then what was selected, then the JSON's current). */
async function loadVariable(v: VariableState, fromUrl: string[] | undefined): Promise<void> {
  const def = v.def;
  try {
    v.options = await variableOptions(def);
    v.error = undefined;
  } catch (error) {
    v.options = [];
    v.error = (error as Error).message;
  }
  const previous = v.value.isAll ? ['$__all'] : v.value.values;
  const wanted = fromUrl ?? (previous.length > 0 ? previous : currentValues(def));
  const includeAll = def.includeAll === true;
  const multi = def.multi === true;
  const values = v.options.map((o) => o.value);
  let isAll = includeAll && (wanted.includes('$__all') || wanted.includes('All'));
  let selected = isAll ? values : wanted.filter((w) => values.includes(w) || def.type === 'textbox');
  if (!multi) selected = selected.slice(0, 1);
  if (selected.length === 0 && !isAll) {
    if (values.length > 0) selected = [values[0]!];
    else if (includeAll) isAll = true;
  }
  v.value = {
    values: isAll ? values : selected,
    texts: isAll ? ['All'] : selected.map((s) => v.options.find((o) => o.value === s)?.text ?? s),
    isAll,
    allValue: def.allValue ?? undefined,
    multi,
    includeAll,
  };
  report.variables[def.name] = { options: values, current: v.value.values, isAll, ...(v.error ? { error: v.error } : {}) };
}

/** Reloads the variables that depend (directly or through others) on `changed`, in dashboard order. */
async function reloadDependents(changed: Set<string>, all = false): Promise<void> {
  const dirty = new Set(changed);
  for (const [name, v] of state.variables) {
    const text = `${typeof v.def.query === 'string' ? v.def.query : JSON.stringify(v.def.query ?? '')} ${typeof v.def.datasource === 'object' && v.def.datasource ? (v.def.datasource.uid ?? '') : String(v.def.datasource ?? '')}`;
    const depends = referencedVariables(text).some((r) => dirty.has(r));
    const refreshes = all && (v.def.refresh === 2 || v.def.type === 'datasource' || v.def.type === 'custom');
    if (!depends && !refreshes) continue;
    await loadVariable(v, undefined);
    dirty.add(name);
    renderVariableControl(v);
  }
}

function applyVariable(v: VariableState, selected: string[]): void {
  const values = v.options.map((o) => o.value);
  const isAll = v.def.includeAll === true && (selected.includes('$__all') || (selected.length === 0 && v.def.includeAll === true));
  const chosen = isAll ? values : selected;
  v.value = { ...v.value, values: chosen, texts: isAll ? ['All'] : chosen.map((s) => v.options.find((o) => o.value === s)?.text ?? s), isAll };
  report.variables[v.def.name] = { options: values, current: chosen, isAll, ...(v.error ? { error: v.error } : {}) };
  setParams((p) => {
    p.delete(`var-${v.def.name}`);
    for (const value of isAll ? ['$__all'] : chosen) p.append(`var-${v.def.name}`, value);
  });
  renderVariableControl(v);
  void track(
    (async () => {
      await reloadDependents(new Set([v.def.name]));
      renderLinks(document.querySelector<HTMLElement>('nav.links')!);
      await refreshPanels();
    })(),
  );
}

function renderVariableControl(v: VariableState): void {
  const container = v.control;
  if (!container) return;
  const def = v.def;
  container.replaceChildren();
  container.dataset.variable = def.name;
  if (def.hide !== 1) container.append(h('label', {}, def.label || def.name));
  if (def.type === 'textbox') {
    const input = h('input', { type: 'text', value: v.value.values[0] ?? '' });
    input.addEventListener('change', () => {
      v.options = [{ text: input.value, value: input.value }];
      applyVariable(v, [input.value]);
    });
    container.append(input);
  } else if (!def.multi) {
    const select = h('select', { 'aria-label': def.label || def.name });
    if (def.includeAll) select.append(h('option', { value: '$__all' }, 'All'));
    for (const option of v.options) select.append(h('option', { value: option.value }, option.text));
    select.value = v.value.isAll ? '$__all' : (v.value.values[0] ?? '');
    select.addEventListener('change', () => applyVariable(v, [select.value]));
    container.append(select);
  } else {
    const button = h('button', { type: 'button', 'aria-haspopup': 'listbox', title: (v.value.texts ?? []).join(' + ') }, (v.value.isAll ? ['All'] : (v.value.texts ?? [])).join(' + ') || 'None');
    container.append(button);
    button.addEventListener('click', (event) => {
      event.stopPropagation();
      const open = container.querySelector('.menu');
      if (open) return open.remove();
      const menu = h('div', { class: 'menu', role: 'listbox' });
      const choices = [...(def.includeAll ? [{ text: 'All', value: '$__all' }] : []), ...v.options];
      for (const choice of choices) {
        const checked = choice.value === '$__all' ? v.value.isAll : !v.value.isAll && v.value.values.includes(choice.value);
        const input = h('input', { type: 'checkbox', value: choice.value });
        input.checked = checked;
        input.addEventListener('change', () => {
          let selected: string[];
          if (choice.value === '$__all') selected = input.checked ? ['$__all'] : [];
          else {
            const current = v.value.isAll ? [] : [...v.value.values];
            selected = input.checked ? [...current, choice.value] : current.filter((c) => c !== choice.value);
            if (selected.length === 0 && !def.includeAll && v.options[0]) selected = [v.options[0].value];
          }
          applyVariable(v, selected);
          container.querySelector<HTMLButtonElement>('button')?.click();
        });
        menu.append(h('label', {}, input, ` ${choice.text}`));
      }
      container.append(menu);
      const close = (e: MouseEvent) => {
        if (!menu.contains(e.target as Node)) {
          menu.remove();
          document.removeEventListener('click', close);
        }
      };
      document.addEventListener('click', close);
    });
  }
  if (v.error) container.append(h('span', { class: 'box error', role: 'alert' }, v.error));
  if (def.hide === 2) container.style.display = 'none';
}

// ---- panels -------------------------------------------------------------------------------------

function panelKey(panel: Panel, index: number): string {
  return panel.id !== undefined ? String(panel.id) : `p${index}`;
}

function createPanelView(panel: Panel, key: string): PanelView {
  const support = checkPanel(panel);
  const element = h('section', { class: `panel${panel.transparent ? ' transparent' : ''}${support.typeSupported ? '' : ' unsupported-type'}`, 'data-panel-id': key, 'data-panel-type': panel.type });
  const title = h('h3', {}, panel.title ?? '');
  const header = h('div', { class: 'panel-header' }, title);
  if (panel.description) header.append(h('span', { class: 'info', title: panel.description }, 'i'));
  for (const link of panel.links ?? []) if (link.url) header.append(h('a', { href: link.url, ...(link.targetBlank ? { target: '_blank' } : {}) }, link.title ?? 'link'));
  const stateLabel = h('span', { class: 'state' });
  header.append(stateLabel);
  const notices = h('div', { class: 'panel-notices' });
  const body = h('div', { class: 'panel-body' });
  element.append(header, notices, body);
  const view: PanelView = {
    key,
    panel,
    element,
    body,
    notices,
    generation: 0,
    unsupported: support.unsupported,
    typeSupported: support.typeSupported,
    report: { id: key, title: panel.title ?? '', type: panel.type, state: 'loading', queries: [], errors: [], unsupported: support.unsupported, series: 0, thresholds: [] },
  };
  if (!support.typeSupported) {
    view.report.state = 'unsupported';
    body.append(box('unsupported', `Panel type "${panel.type}" is not supported by the perfstack viewer; open this dashboard in Grafana to see it.`));
  }
  report.panels[key] = view.report;
  setPanelState(view, view.report.state);
  return view;
}

function setPanelState(view: PanelView, value: PanelReport['state']): void {
  view.report.state = value;
  view.element.dataset.state = value;
}

function showNotices(view: PanelView, errors: string[]): void {
  view.notices.replaceChildren();
  if (view.unsupported.length > 0) view.notices.append(box('unsupported', `Not supported by the viewer, ignored: ${view.unsupported.join('; ')}`));
  for (const error of errors) view.notices.append(box('error', error));
}

const RENDERERS: Record<string, (body: HTMLElement, panel: Panel, series: Series[], ctx: RenderContext) => RenderResult> = {
  timeseries: renderTimeseries,
  stat: renderStat,
  gauge: renderGauge,
  bargauge: renderBarGauge,
  table: renderTable,
};

async function runPanel(view: PanelView): Promise<void> {
  if (!view.typeSupported || view.panel.type === 'row') return;
  const generation = ++view.generation;
  const panel = view.panel;
  setPanelState(view, 'loading');
  const range = state.range!;
  const errors: string[] = [];
  const series: Series[] = [];
  const queries: PanelReport['queries'] = [];
  const width = Math.max(100, view.body.clientWidth || 600);
  let panelDs: DatasourceInfo | undefined;
  try {
    panelDs = resolveDatasource(panel.datasource as DataSourceRef | string | null | undefined);
  } catch (error) {
    errors.push((error as Error).message);
  }
  await Promise.all(
    (panel.targets ?? [])
      .filter((t) => !t.hide)
      .map(async (target) => {
        const refId = target.refId ?? 'A';
        try {
          const mixed = typeof panel.datasource === 'object' && panel.datasource?.uid === '-- Mixed --';
          const ds = mixed || !panelDs ? resolveDatasource(target.datasource) : panelDs;
          const vars = variableValues();
          const minInterval = panel.interval ? parseDuration(interpolate(panel.interval, vars)) : target.interval ? parseDuration(interpolate(target.interval, vars)) : undefined;
          const timing = queryTiming(range, panel.maxDataPoints ?? width, ds.scrapeIntervalSeconds * 1000, minInterval);
          const all = { ...vars, ...builtInVariables(range, timing, { uid: state.dashboard!.uid, title: state.dashboard!.title }) };
          const expr = interpolate(target.expr ?? '', all);
          const instant = target.instant === true && target.range !== true;
          queries.push({ refId, expr, datasource: ds.uid, instant, ...(instant ? {} : { step: timing.step }) });
          const unknown = referencedVariables(expr);
          if (unknown.length > 0) throw new Error(`unknown variable ${unknown.map((u) => `$${u}`).join(', ')}`);
          if (expr.trim() === '') throw new Error('empty query');
          const data = await limited(() => (instant ? api.instantQuery(ds.uid, expr, range.to / 1000) : api.rangeQuery(ds.uid, expr, timing.start, timing.end, timing.step)));
          series.push(...toSeries(data, refId, target.legendFormat ? interpolate(target.legendFormat, vars) : target.legendFormat));
        } catch (error) {
          errors.push(`Query ${refId}: ${(error as Error).message}`);
        }
      }),
  );
  if (generation !== view.generation) return; // a newer refresh took over
  const order = (panel.targets ?? []).map((t) => t.refId ?? 'A');
  series.sort((a, b) => order.indexOf(a.refId) - order.indexOf(b.refId));
  queries.sort((a, b) => order.indexOf(a.refId) - order.indexOf(b.refId));
  view.result?.destroy?.();
  view.result = undefined;
  view.body.replaceChildren();
  showNotices(view, errors);
  view.report.queries = queries;
  view.report.errors = errors;
  view.report.series = series.filter((s) => s.values.some((v) => v !== null && Number.isFinite(v))).length;
  const data = hasData(series);
  if (data) {
    try {
      view.result = RENDERERS[panel.type]!(view.body, panel, series, { range, annotations: state.annotations });
    } catch (error) {
      errors.push(`Drawing failed: ${(error as Error).message}`);
      showNotices(view, errors);
    }
  } else if (errors.length === 0) {
    view.body.append(h('div', { class: 'nodata' }, panel.fieldConfig?.defaults?.noValue ?? 'No data'));
  }
  view.report.thresholds = view.result?.thresholds ?? [];
  setPanelState(view, errors.length > 0 ? 'error' : data ? 'ok' : 'empty');
}

async function refreshPanels(): Promise<void> {
  await loadAnnotations();
  await Promise.all([...state.views.values()].filter((v) => v.element.isConnected && v.report.state !== 'collapsed').map((v) => runPanel(v)));
}

// ---- annotations --------------------------------------------------------------------------------

function promAnnotations(): Annotation[] {
  return (state.dashboard?.annotations?.list ?? []).filter((a) => a.builtIn !== 1 && checkAnnotation(a).length === 0);
}

async function loadAnnotations(): Promise<void> {
  const range = state.range!;
  const out: RenderContext['annotations'] = [];
  report.annotations = [];
  for (const annotation of promAnnotations()) {
    const name = annotation.name ?? 'annotation';
    if (annotation.enable === false || state.disabledAnnotations.has(name)) {
      report.annotations.push({ name, events: 0 });
      continue;
    }
    try {
      const ds = resolveDatasource(annotation.datasource);
      const stepMs = parseDuration(annotation.step ?? '') ?? 60_000;
      const timing = queryTiming(range, Math.max(1, (range.to - range.from) / stepMs), ds.scrapeIntervalSeconds * 1000, stepMs);
      const vars = { ...variableValues(), ...builtInVariables(range, timing) };
      // Up to the step after `to`: an event in the last step of the range still shows.
      const end = Math.ceil(range.to / 1000 / timing.step) * timing.step;
      const data = await limited(() => api.rangeQuery(ds.uid, interpolate(annotation.expr!, vars), timing.start, end, timing.step));
      const events = annotationEvents(toSeries(data, 'A'), timing.step);
      for (const event of events) out.push({ time: event.time, color: annotation.iconColor ?? 'red', title: legendName(annotation.titleFormat ?? name, event.labels) });
      report.annotations.push({ name, events: events.length });
    } catch (error) {
      report.annotations.push({ name, events: 0, error: (error as Error).message });
    }
  }
  state.annotations = out;
}

// ---- the dashboard page -------------------------------------------------------------------------

const QUICK_RANGES: [string, string][] = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-30m', 'Last 30 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
];
const REFRESH_CHOICES = ['', '5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h'];

function linkHref(url: string, includeVars?: boolean, keepTime?: boolean): string {
  const target = new URL(interpolate(url, variableValues()), location.origin);
  if (keepTime) {
    target.searchParams.set('from', state.rawRange.from);
    target.searchParams.set('to', state.rawRange.to);
  }
  if (includeVars) {
    for (const [name, v] of state.variables) {
      if (v.def.type === 'constant') continue;
      target.searchParams.delete(`var-${name}`);
      for (const value of v.value.isAll ? ['$__all'] : v.value.values) target.searchParams.append(`var-${name}`, value);
    }
  }
  return target.origin === location.origin ? `${target.pathname}${target.search}${target.hash}` : target.toString();
}

function renderLinks(container: HTMLElement): void {
  container.replaceChildren();
  for (const link of state.dashboard?.links ?? []) {
    if (link.type === 'dashboards') {
      const tags = link.tags ?? [];
      for (const entry of state.entries.filter((e) => e.uid !== state.dashboard!.uid && tags.every((t) => e.tags.includes(t)))) {
        container.append(h('a', { href: linkHref(`/d/${entry.uid}`, link.includeVars, link.keepTime), 'data-link': entry.uid }, entry.title));
      }
    } else if (link.url) {
      container.append(h('a', { href: linkHref(link.url, link.includeVars, link.keepTime), title: link.tooltip ?? '', ...(link.targetBlank ? { target: '_blank' } : {}), 'data-link': link.url }, link.title ?? link.url));
    }
  }
}

function setRange(from: string, to: string): boolean {
  const range = resolveRange(from, to);
  if (!range) return false;
  state.rawRange = { from, to };
  state.range = range;
  setParams((p) => {
    p.set('from', from);
    p.set('to', to);
  });
  return true;
}

function scheduleRefresh(): void {
  if (state.timer !== undefined) clearInterval(state.timer);
  state.timer = undefined;
  if (state.refreshMs > 0) state.timer = window.setInterval(() => void refreshAll(), state.refreshMs);
}

async function refreshAll(): Promise<void> {
  state.range = resolveRange(state.rawRange.from, state.rawRange.to) ?? state.range;
  await track(
    (async () => {
      await reloadDependents(new Set(), true);
      renderLinks(document.querySelector<HTMLElement>('nav.links')!);
      await refreshPanels();
    })(),
  );
}

function timeControls(): HTMLElement {
  const wrap = h('span', { class: 'time' });
  const select = h('select', { 'aria-label': 'Time range', 'data-control': 'time-range' });
  const known = QUICK_RANGES.some(([from]) => from === state.rawRange.from) && state.rawRange.to === 'now';
  if (!known) select.append(h('option', { value: 'custom' }, `${state.rawRange.from} to ${state.rawRange.to}`));
  for (const [from, label] of QUICK_RANGES) select.append(h('option', { value: from }, label));
  select.value = known ? state.rawRange.from : 'custom';
  const from = h('input', { type: 'text', size: '16', value: state.rawRange.from, 'aria-label': 'From' });
  const to = h('input', { type: 'text', size: '10', value: state.rawRange.to, 'aria-label': 'To' });
  const apply = h('button', { type: 'button' }, 'Apply');
  select.addEventListener('change', () => {
    if (select.value === 'custom') return;
    from.value = select.value;
    to.value = 'now';
    if (setRange(select.value, 'now')) void refreshAll();
  });
  apply.addEventListener('click', () => {
    if (setRange(from.value.trim(), to.value.trim())) void refreshAll();
    else alert(`Cannot read the time range "${from.value}" to "${to.value}" (now-1h, now, epoch ms or an ISO date; from before to)`);
  });
  const refresh = h('select', { 'aria-label': 'Auto-refresh', 'data-control': 'refresh' });
  for (const choice of REFRESH_CHOICES) refresh.append(h('option', { value: choice }, choice === '' ? 'Auto-refresh off' : `Every ${choice}`));
  const current = params().get('refresh') ?? '';
  refresh.value = REFRESH_CHOICES.includes(current) ? current : '';
  refresh.addEventListener('change', () => {
    state.refreshMs = parseDuration(refresh.value) ?? 0;
    setParams((p) => p.set('refresh', refresh.value));
    scheduleRefresh();
  });
  const now = h('button', { type: 'button', title: 'Refresh now', 'data-control': 'refresh-now' }, '⟳');
  now.addEventListener('click', () => void refreshAll());
  wrap.append(select, from, to, apply, refresh, now);
  return wrap;
}

function gridFor(panels: Panel[], top: number, keyOf: (p: Panel) => string): HTMLElement {
  const grid = h('div', { class: 'grid' });
  for (const panel of panels) {
    const view = state.views.get(keyOf(panel)) ?? createPanelView(panel, keyOf(panel));
    state.views.set(view.key, view);
    const g = panel.gridPos ?? { x: 0, y: top, w: 12, h: 8 };
    view.element.style.gridColumn = `${g.x + 1} / span ${Math.min(24 - g.x, g.w)}`;
    view.element.style.gridRow = `${Math.max(0, g.y - top) + 1} / span ${g.h}`;
    grid.append(view.element);
  }
  return grid;
}

async function showDashboard(uid: string): Promise<void> {
  const app = document.getElementById('app')!;
  const p = params();
  const [dashboard, datasources, entries] = await Promise.all([api.getDashboard(uid).catch(() => undefined), api.listDatasources(), api.listDashboards()]);
  if (!dashboard || !('uid' in dashboard)) {
    app.replaceChildren(h('p', { class: 'notice error' }, `No dashboard with uid ${uid}. `, h('a', { href: '/' }, 'All dashboards')));
    report.settled = true;
    document.body.dataset.settled = 'true';
    return;
  }
  state.dashboard = dashboard;
  state.datasources = datasources;
  state.entries = entries;
  report.dashboard = uid;
  document.title = `${dashboard.title} · perfstack`;
  const from = p.get('from') ?? dashboard.time?.from ?? 'now-1h';
  const to = p.get('to') ?? dashboard.time?.to ?? 'now';
  if (!setRange(from, to)) setRange(dashboard.time?.from ?? 'now-1h', dashboard.time?.to ?? 'now');
  const refreshParam = p.get('refresh');
  state.refreshMs = parseDuration(refreshParam ?? (typeof dashboard.refresh === 'string' ? dashboard.refresh : '') ?? '') ?? 0;
  if (refreshParam === null && typeof dashboard.refresh === 'string') setParams((q) => q.set('refresh', dashboard.refresh as string));
  state.soloPanel = p.get('viewPanel') ?? undefined;
  if (p.has('kiosk')) document.body.classList.add('kiosk');
  if (state.soloPanel) document.body.classList.add('solo');

  const label = document.body.dataset.label;
  const header = h(
    'header',
    { class: 'top' },
    h('a', { href: '/' }, 'perfstack dashboards'),
    h('span', { class: 'label' }, '/'),
    h('h1', {}, dashboard.title),
    label ? h('span', { class: 'badge' }, label) : undefined,
    h('span', { class: 'spacer' }),
    timeControls(),
  );
  const links = h('nav', { class: 'links' });
  const variablesBar = h('div', { class: 'variables' });
  const notices = h('div', { class: 'dashboard-notices' });
  const main = h('main');
  app.replaceChildren(header, links, variablesBar, notices, main);

  // Variables, in order (each may use the ones before it).
  const unsupportedNotes: string[] = [];
  for (const def of dashboard.templating?.list ?? []) {
    const problems = checkVariable(def);
    if (problems.length > 0) {
      unsupportedNotes.push(...problems);
      continue;
    }
    const fromUrl = p.getAll(`var-${def.name}`);
    const v: VariableState = { def, options: [], value: { values: [], isAll: false, multi: def.multi === true, includeAll: def.includeAll === true }, control: h('div', { class: 'variable' }) };
    state.variables.set(def.name, v);
    variablesBar.append(v.control!);
    await track(loadVariable(v, fromUrl.length > 0 ? fromUrl : undefined));
    renderVariableControl(v);
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    unsupportedNotes.push(...checkAnnotation(annotation));
    if (annotation.builtIn === 1 || checkAnnotation(annotation).length > 0) continue;
    const name = annotation.name ?? 'annotation';
    const toggle = h('input', { type: 'checkbox' });
    toggle.checked = annotation.enable !== false;
    toggle.addEventListener('change', () => {
      if (toggle.checked) state.disabledAnnotations.delete(name);
      else state.disabledAnnotations.add(name);
      void refreshAll();
    });
    variablesBar.append(h('label', { class: 'variable annotation', title: annotation.expr ?? '' }, toggle, ` ${name}`));
  }
  report.notices = unsupportedNotes;
  for (const note of unsupportedNotes) notices.append(h('div', { class: 'notice' }, `Not supported by the viewer, ignored: ${note}`));
  renderLinks(links);

  // Layout: one grid per row section; collapsed rows draw their panels when opened.
  const keys = new Map<Panel, string>();
  allPanels(dashboard).forEach((panel, index) => keys.set(panel, panelKey(panel, index)));
  const keyOf = (panel: Panel) => keys.get(panel)!;
  if (state.soloPanel) {
    const panel = allPanels(dashboard).find((candidate) => keyOf(candidate) === state.soloPanel);
    if (!panel) main.append(h('div', { class: 'notice error' }, `No panel ${state.soloPanel} on this dashboard`));
    else main.append(h('div', { class: 'section' }, gridFor([{ ...panel, gridPos: { x: 0, y: 0, w: 24, h: panel.gridPos?.h ?? 8 } }], 0, () => keyOf(panel))));
  } else {
    for (const section of sections(dashboard)) {
      const element = h('div', { class: 'section' });
      if (section.row) {
        const row = section.row;
        const key = keyOf(row);
        const arrow = h('span', {}, row.collapsed ? '▸ ' : '▾ ');
        const title = h('h2', { 'data-row-id': key, 'data-collapsed': String(row.collapsed === true), role: 'button' }, arrow, interpolate(row.title ?? '', variableValues()));
        if (row.collapsed) title.append(h('span', { class: 'count' }, ` (${section.panels.length} panels)`));
        element.append(title);
        let grid: HTMLElement | undefined;
        const open = () => {
          grid ??= gridFor(section.panels, section.top, keyOf);
          element.append(grid);
          return grid;
        };
        if (!row.collapsed) open();
        else {
          for (const panel of section.panels) {
            const view = createPanelView(panel, keyOf(panel));
            state.views.set(view.key, view);
            if (view.typeSupported) setPanelState(view, 'collapsed');
          }
        }
        title.addEventListener('click', () => {
          const collapsed = title.dataset.collapsed === 'true';
          title.dataset.collapsed = String(!collapsed);
          arrow.textContent = collapsed ? '▾ ' : '▸ ';
          if (collapsed) {
            open();
            const views = section.panels.map((panel) => state.views.get(keyOf(panel))!).filter((v) => v.report.state === 'collapsed');
            void track(Promise.all(views.map((v) => runPanel(v))));
          } else grid?.remove();
        });
      } else {
        element.append(gridFor(section.panels, section.top, keyOf));
      }
      main.append(element);
    }
  }
  await track(refreshPanels());
  scheduleRefresh();
}

// ---- the list page ------------------------------------------------------------------------------

async function showList(): Promise<void> {
  const app = document.getElementById('app')!;
  const entries = await api.listDashboards();
  document.title = 'perfstack dashboards';
  const label = document.body.dataset.label;
  const main = h('main');
  app.replaceChildren(h('header', { class: 'top' }, h('h1', {}, 'perfstack dashboards'), label ? h('span', { class: 'badge' }, label) : undefined), main);
  if (entries.length === 0) main.append(h('p', { class: 'notice' }, 'No dashboards found. Run `perfstack generate`.'));
  const folders = [...new Set(entries.map((e) => e.folder))];
  for (const folder of folders) {
    main.append(h('div', { class: 'folder' }, folder));
    const list = h('ul', { class: 'dashboards' });
    for (const entry of entries.filter((e) => e.folder === folder)) {
      const error = (entry as DashboardEntry & { error?: string }).error;
      list.append(
        h(
          'li',
          { 'data-uid': entry.uid },
          error ? h('span', {}, entry.file) : h('a', { href: `/d/${encodeURIComponent(entry.uid)}` }, entry.title),
          ' ',
          ...entry.tags.map((t) => h('span', { class: 'badge' }, t)),
          error ? h('div', { class: 'box error' }, `${entry.file}: ${error}`) : h('div', { class: 'desc' }, `${entry.description} (${entry.panels} panels)`),
        ),
      );
    }
    main.append(list);
  }
  report.settled = true;
  document.body.dataset.settled = 'true';
}

async function start(): Promise<void> {
  const match = /^\/d\/([^/]+)/.exec(location.pathname);
  try {
    if (match) await track(showDashboard(decodeURIComponent(match[1]!)));
    else await showList();
  } catch (error) {
    document.getElementById('app')!.replaceChildren(h('p', { class: 'notice error', role: 'alert' }, `The viewer failed: ${(error as Error).message}`));
    report.notices.push((error as Error).message);
    report.settled = true;
    document.body.dataset.settled = 'true';
  }
}

void start();
