// What the viewer can draw, checked against a panel's JSON before it draws it. A panel type it
// cannot draw, and every option it would otherwise ignore (a key it does not know, or a value it
// does not implement), is named here so the page shows it in a box instead of dropping it.

import { isKnownUnit } from './units.js';
import type { Annotation, Json, Panel, Variable } from './model.js';

export const SUPPORTED_PANEL_TYPES = ['row', 'timeseries', 'stat', 'gauge', 'bargauge', 'table'] as const;
export const SUPPORTED_VARIABLE_TYPES = ['query', 'custom', 'datasource', 'constant', 'textbox', 'interval'] as const;

/** A check for one option: true when the value is one the viewer implements. */
type Check = (value: unknown) => boolean;

const any: Check = () => true;
const bool: Check = (v) => typeof v === 'boolean';
const falsy: Check = (v) => v === false || v === undefined || v === null;
const num: Check = (v) => typeof v === 'number';
const str: Check = (v) => typeof v === 'string';
const oneOf =
  (...values: unknown[]): Check =>
  (v) =>
    values.includes(v);
const emptyList: Check = (v) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
const emptyText: Check = (v) => v === undefined || v === null || v === '';
const REDUCERS = ['lastNotNull', 'last', 'firstNotNull', 'first', 'mean', 'max', 'min', 'sum', 'count', 'range', 'delta', 'diff'];
const reducers: Check = (v) => Array.isArray(v) && v.length <= 1 && v.every((r) => REDUCERS.includes(r as string));
const legendCalcs: Check = (v) => Array.isArray(v) && v.every((r) => REDUCERS.includes(r as string));

/** Nested option groups: a map of key → check, or a nested group. */
interface Group {
  [key: string]: Check | Group;
}

const reduceOptions: Group = { values: falsy, calcs: reducers, fields: emptyText, limit: any };
const textOptions: Group = { titleSize: num, valueSize: num };
const vizOrientation = oneOf('auto', 'horizontal', 'vertical');

const OPTIONS: Record<string, Group> = {
  timeseries: {
    legend: {
      showLegend: bool,
      displayMode: oneOf('list', 'table', 'hidden'),
      placement: oneOf('bottom', 'right'),
      calcs: legendCalcs,
      asTable: any,
      isVisible: any,
      sortBy: any,
      sortDesc: any,
      width: any,
    },
    tooltip: { mode: oneOf('single', 'multi', 'none'), sort: oneOf('none', 'asc', 'desc'), maxHeight: any, maxWidth: any, hideZeros: any },
  },
  stat: {
    reduceOptions,
    colorMode: oneOf('value', 'background', 'background_solid', 'none'),
    graphMode: oneOf('area', 'none'),
    justifyMode: oneOf('auto', 'center'),
    textMode: oneOf('auto', 'value', 'value_and_name', 'name', 'none'),
    orientation: vizOrientation,
    wideLayout: any,
    showPercentChange: falsy,
    percentChangeColorMode: any,
    text: textOptions,
  },
  gauge: {
    reduceOptions,
    showThresholdMarkers: bool,
    showThresholdLabels: bool,
    orientation: vizOrientation,
    minVizWidth: any,
    minVizHeight: any,
    sizing: oneOf('auto', 'manual'),
    text: textOptions,
  },
  bargauge: {
    reduceOptions,
    displayMode: oneOf('basic', 'gradient', 'lcd'),
    orientation: vizOrientation,
    showUnfilled: bool,
    valueMode: oneOf('color', 'text', 'hidden'),
    namePlacement: oneOf('auto', 'top', 'left', 'hidden'),
    sizing: oneOf('auto', 'manual'),
    minVizWidth: any,
    minVizHeight: any,
    maxVizHeight: any,
    text: textOptions,
    legend: any,
  },
  table: {
    showHeader: bool,
    cellHeight: any,
    footer: { show: falsy, reducer: any, countRows: any, fields: any, enablePagination: falsy },
    frameIndex: oneOf(0, undefined),
    showTypeIcons: any,
    sortBy: (v) => Array.isArray(v) && v.every((s) => typeof s === 'object' && s !== null && typeof (s as { displayName?: unknown }).displayName === 'string'),
  },
  row: {},
};

const TIMESERIES_CUSTOM: Group = {
  lineWidth: num,
  fillOpacity: num,
  showPoints: oneOf('never', 'always', 'auto'),
  pointSize: num,
  spanNulls: (v) => typeof v === 'boolean' || typeof v === 'number',
  thresholdsStyle: { mode: oneOf('off', 'line', 'dashed', 'area', 'line+area', 'dashed+area') },
  stacking: { mode: oneOf('none', 'normal'), group: any },
  drawStyle: oneOf('line', 'bars', 'points'),
  lineInterpolation: oneOf('linear', 'smooth', 'stepBefore', 'stepAfter'),
  gradientMode: oneOf('none', 'opacity'),
  axisPlacement: oneOf('auto', 'left', 'right', 'hidden'),
  axisLabel: any,
  axisSoftMin: num,
  axisSoftMax: num,
  axisCenteredZero: falsy,
  axisColorMode: any,
  axisBorderShow: any,
  barAlignment: any,
  hideFrom: { legend: falsy, tooltip: any, viz: falsy },
  scaleDistribution: { type: oneOf('linear', 'log'), log: oneOf(2, 10) },
  insertNulls: falsy,
  lineStyle: { fill: oneOf('solid') },
};

const TABLE_CUSTOM: Group = {
  align: oneOf('auto', 'left', 'right', 'center'),
  inspect: any,
  cellOptions: { type: oneOf('auto', 'color-text', 'color-background'), mode: any, wrapText: any },
  filterable: falsy,
  width: any,
  minWidth: any,
  displayMode: oneOf('auto', 'color-text', 'color-background'),
  hidden: any,
};

const FIELD_DEFAULTS: Group = {
  unit: (v) => typeof v === 'string' && isKnownUnit(v),
  decimals: num,
  min: num,
  max: num,
  thresholds: { mode: oneOf('absolute', 'percentage'), steps: any },
  color: { mode: oneOf('thresholds', 'palette-classic', 'fixed', 'palette-classic-by-name'), fixedColor: str, seriesBy: any },
  displayName: str,
  noValue: str,
  mappings: emptyList,
  links: emptyList,
  filterable: falsy,
};

/** Panel-level keys: the viewer uses or safely ignores each of these. */
const PANEL_KEYS: Group = {
  type: any,
  id: any,
  title: any,
  description: any,
  gridPos: any,
  datasource: any,
  targets: any,
  fieldConfig: any,
  options: any,
  transparent: bool,
  pluginVersion: any,
  repeat: emptyText,
  repeatDirection: any,
  maxPerRow: any,
  maxDataPoints: num,
  interval: str,
  links: any,
  transformations: any,
  collapsed: bool,
  panels: any,
  timeFrom: emptyText,
  timeShift: emptyText,
  hideTimeOverride: any,
  libraryPanel: (v) => v === undefined,
  cacheTimeout: any,
  queryCachingTTL: any,
};

const TARGET_KEYS: Group = {
  expr: str,
  refId: any,
  legendFormat: any,
  instant: bool,
  range: bool,
  format: oneOf('time_series', 'table', undefined),
  datasource: any,
  editorMode: any,
  hide: bool,
  interval: str,
  intervalFactor: oneOf(1, undefined),
  exemplar: any,
  step: any,
  key: any,
  queryType: any,
};

function isGroup(value: Check | Group): value is Group {
  return typeof value !== 'function';
}

function checkGroup(value: unknown, group: Group, path: string, problems: string[]): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path} = ${short(value)}`);
    return;
  }
  for (const [key, child] of Object.entries(value as Json)) {
    const rule = group[key];
    const where = `${path}.${key}`;
    if (rule === undefined) problems.push(`${where} = ${short(child)}`);
    else if (isGroup(rule)) checkGroup(child, rule, where, problems);
    else if (!rule(child)) problems.push(`${where} = ${short(child)}`);
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export interface SupportReport {
  /** False when the panel type itself cannot be drawn. */
  typeSupported: boolean;
  /** Options present in the JSON that the viewer does not implement ("path = value"). */
  unsupported: string[];
}

/** What the viewer cannot honour in a panel's JSON. */
export function checkPanel(panel: Panel): SupportReport {
  const typeSupported = (SUPPORTED_PANEL_TYPES as readonly string[]).includes(panel.type);
  const unsupported: string[] = [];
  if (!typeSupported) return { typeSupported, unsupported };
  checkGroup(panel, PANEL_KEYS, 'panel', unsupported);
  if (panel.type === 'row') return { typeSupported, unsupported };
  checkGroup(panel.options, OPTIONS[panel.type] ?? {}, 'options', unsupported);
  const defaults = panel.fieldConfig?.defaults;
  if (defaults) {
    const { custom, ...rest } = defaults;
    checkGroup(rest, FIELD_DEFAULTS, 'fieldConfig.defaults', unsupported);
    const customGroup = panel.type === 'timeseries' ? TIMESERIES_CUSTOM : panel.type === 'table' ? TABLE_CUSTOM : {};
    checkGroup(custom, customGroup, 'fieldConfig.defaults.custom', unsupported);
  }
  if ((panel.fieldConfig?.overrides ?? []).length > 0) unsupported.push(`fieldConfig.overrides (${panel.fieldConfig!.overrides!.length})`);
  (panel.targets ?? []).forEach((target, index) => checkGroup(target, TARGET_KEYS, `targets[${index}]`, unsupported));
  for (const transformation of panel.transformations ?? []) {
    if (transformation.disabled) continue;
    if (transformation.id !== 'organize') unsupported.push(`transformations: ${transformation.id}`);
    else checkGroup(transformation.options, { excludeByName: any, renameByName: any, indexByName: any, includeByName: any }, 'transformations.organize', unsupported);
  }
  const ds = panel.datasource;
  const dsType = typeof ds === 'object' && ds !== null ? ds.type : undefined;
  if (dsType && dsType !== 'prometheus' && dsType !== 'datasource' && !String(dsType).startsWith('$')) unsupported.push(`datasource type ${dsType}`);
  return { typeSupported, unsupported };
}

/** What the viewer cannot honour in a template variable. */
export function checkVariable(variable: Variable): string[] {
  if (!(SUPPORTED_VARIABLE_TYPES as readonly string[]).includes(variable.type)) return [`variable $${variable.name}: type ${variable.type}`];
  return [];
}

/** What the viewer cannot honour in an annotation (the built-in "Annotations & Alerts" is ignored, as it needs Grafana's database). */
export function checkAnnotation(annotation: Annotation): string[] {
  if (annotation.builtIn === 1) return [];
  const type = annotation.datasource?.type;
  if (type && type !== 'prometheus' && !type.startsWith('$')) return [`annotation "${annotation.name ?? ''}": datasource type ${type}`];
  if (typeof annotation.expr !== 'string' || annotation.expr === '') return [`annotation "${annotation.name ?? ''}": no PromQL expression`];
  return [];
}
