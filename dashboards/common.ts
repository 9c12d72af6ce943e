import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DASHBOARD_UIDS, DATASOURCE_VARIABLE_REF, PROMETHEUS_DATASOURCE_UID, type DashboardKey } from './uids.js';

// Shared query, panel, variable and layout factories. Every dashboard file builds on these,
// so the conventions (fixed datasource uid, $__rate_interval, title+description+unit,
// dashed SLA lines) are enforced in one place.

/** The `$datasource` variable (default: the provisioned Prometheus, by its fixed uid): panels, queries and variables follow it. */
export const PROMETHEUS: common.DataSourceRef = { type: 'prometheus', uid: DATASOURCE_VARIABLE_REF };

/** Grafana's rate window: at least four scrape intervals, so rate() never sees a single sample. */
export const RATE_INTERVAL = '$__rate_interval';

/** Grafana variable selection shared by every dashboard. */
export const JOB_AND_INSTANCE = ['job=~"$job"', 'instance=~"$instance"'] as const;

// ---------------------------------------------------------------------------------------------
// PromQL helpers

/** `metric{a, b}`; matchers that are undefined or empty are left out. */
export function selector(metric: string, matchers: readonly (string | undefined)[] = []): string {
  const present = matchers.filter((m): m is string => m !== undefined && m !== '');
  return present.length === 0 ? metric : `${metric}{${present.join(', ')}}`;
}

/** `rate(<selector>[$__rate_interval])`. */
export function rate(seriesSelector: string): string {
  return `rate(${seriesSelector}[${RATE_INTERVAL}])`;
}

/** `sum by (labels) (inner)`, or plain `sum(inner)` when no labels are given. */
export function sumBy(labels: readonly string[], inner: string, aggregation = 'sum'): string {
  return labels.length === 0 ? `${aggregation}(${inner})` : `${aggregation} by (${labels.join(', ')}) (${inner})`;
}

/** histogram_quantile over the `_bucket` series of a histogram, keeping the given labels. */
export function histogramQuantile(quantile: number, histogram: string, matchers: readonly (string | undefined)[], by: readonly string[]): string {
  return `histogram_quantile(${quantile}, ${sumBy([...by, 'le'], rate(selector(`${histogram}_bucket`, matchers)))})`;
}

/** A PromQL string literal (double-quoted, with backslashes and quotes escaped). */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A regex matching exactly one of the values (RE2 metacharacters escaped). */
export function regexAlternation(values: readonly string[]): string {
  return values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
}

/** Formats a number for descriptions without float noise (0.1 + 0.2 style). */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** Formats a ratio as a percentage for descriptions: 0.999 → "99.9 %". */
export function formatPercent(ratio: number): string {
  return `${formatNumber(ratio * 100)} %`;
}

// ---------------------------------------------------------------------------------------------
// Thresholds

export interface ThresholdStep {
  value: number;
  color: string;
}

/** Colour below the first step, then a colour from each step upwards. */
export interface Thresholds {
  base: string;
  steps: ThresholdStep[];
}

/** Values above `limit` break the SLA (latency, error ratio, utilisation). */
export function upperLimit(limit: number, color = 'red'): Thresholds {
  return { base: 'green', steps: [{ value: limit, color }] };
}

/** Values below `limit` break the SLA (throughput, availability, hit ratios). */
export function lowerLimit(limit: number): Thresholds {
  return { base: 'red', steps: [{ value: limit, color: 'green' }] };
}

/** Warning then critical limit, both drawn. */
export function warningCriticalLimits(warning: number, critical: number): Thresholds {
  return { base: 'green', steps: [{ value: warning, color: 'orange' }, { value: critical, color: 'red' }] };
}

/** Error budget remaining: exhausted below 0, running low below a quarter. */
export const BUDGET_REMAINING_THRESHOLDS: Thresholds = {
  base: 'red',
  steps: [
    { value: 0, color: 'yellow' },
    { value: 0.25, color: 'green' },
  ],
};

function thresholdsBuilder(thresholds: Thresholds): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: thresholds.base }, ...thresholds.steps.map((s) => ({ value: s.value, color: s.color }))]);
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface QuerySpec {
  expr: string;
  /** Legend template, e.g. `{{http_route}}`. */
  legend?: string;
  /** Evaluate once at the end of the range (stat, gauge and table panels). */
  instant?: boolean;
  /** Table format: one row per series with its labels as columns. */
  table?: boolean;
}

/** A Prometheus target on the provisioned datasource. */
export function prometheusQuery(query: QuerySpec, refId: string): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(query.expr)
    .refId(refId);
  if (query.legend !== undefined) builder.legendFormat(query.legend);
  if (query.instant) builder.instant();
  else builder.range();
  if (query.table) builder.format(prometheus.PromQueryFormat.Table);
  return builder;
}

/** refIds A, B, … Z, AA, AB, … in query order. */
function refId(index: number): string {
  const letter = String.fromCharCode(65 + (index % 26));
  return index < 26 ? letter : `${refId(Math.floor(index / 26) - 1)}${letter}`;
}

// ---------------------------------------------------------------------------------------------
// Panels

export interface PanelSpec {
  title: string;
  /** What the panel shows and how to read it (shown as the panel's info tooltip). */
  description: string;
  /** Grafana unit id: s, percentunit, reqps, bytes, Bps, ops, short, … */
  unit: string;
  queries: QuerySpec[];
  thresholds?: Thresholds;
  min?: number;
  max?: number;
  /** Grid width out of 24. */
  width?: number;
  height?: number;
}

/** What every panel kind's builder has in common; lets one function set the shared fields. */
interface CommonPanelBuilder<Self> extends cog.Builder<dashboard.Panel> {
  title(title: string): Self;
  description(description: string): Self;
  unit(unit: string): Self;
  datasource(datasource: common.DataSourceRef): Self;
  targets(targets: cog.Builder<cog.Dataquery>[]): Self;
  thresholds(thresholds: cog.Builder<dashboard.ThresholdsConfig>): Self;
  min(min: number): Self;
  max(max: number): Self;
  height(h: number): Self;
  span(w: number): Self;
  id(id: number): Self;
}

/** Any panel builder a dashboard section accepts (ids are assigned when the dashboard is composed). */
export type AnyPanelBuilder = CommonPanelBuilder<unknown>;

const DEFAULT_WIDTH = 12;
const DEFAULT_HEIGHT = 8;

function withCommonFields<B extends CommonPanelBuilder<B>>(builder: B, spec: PanelSpec, defaultWidth: number): B {
  builder
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(PROMETHEUS)
    .targets(spec.queries.map((q, i) => prometheusQuery(q, refId(i))))
    .span(spec.width ?? defaultWidth)
    .height(spec.height ?? DEFAULT_HEIGHT);
  if (spec.thresholds) builder.thresholds(thresholdsBuilder(spec.thresholds));
  if (spec.min !== undefined) builder.min(spec.min);
  if (spec.max !== undefined) builder.max(spec.max);
  return builder;
}

/** Time series; its thresholds (SLA limits) are drawn as dashed lines. */
export function timeseriesPanel(spec: PanelSpec & { stacked?: boolean }): timeseries.PanelBuilder {
  const builder = withCommonFields(new timeseries.PanelBuilder(), spec, DEFAULT_WIDTH)
    .lineWidth(1)
    .fillOpacity(spec.stacked ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (spec.thresholds && spec.thresholds.steps.length > 0) {
    builder.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  if (spec.stacked) builder.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return builder;
}

/** How a stat or gauge reduces a series to one number. */
export type Reduction = 'lastNotNull' | 'mean' | 'max';

/** One big number per series, coloured by its thresholds. */
export function statPanel(spec: PanelSpec & { reduce?: Reduction }): stat.PanelBuilder {
  return withCommonFields(new stat.PanelBuilder(), spec, 6)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([spec.reduce ?? 'lastNotNull']));
}

/** A dial per series, with threshold markers around the arc. */
export function gaugePanel(spec: PanelSpec & { reduce?: Reduction }): gauge.PanelBuilder {
  return withCommonFields(new gauge.PanelBuilder(), spec, 6)
    .showThresholdMarkers(true)
    .showThresholdLabels(false)
    .reduceOptions(new common.ReduceDataOptionsBuilder().values(false).calcs([spec.reduce ?? 'lastNotNull']));
}

/** Instant values as a table, one row per series; the Time column is hidden. */
export function tablePanel(spec: PanelSpec & { valueColumn: string }): table.PanelBuilder {
  const builder = withCommonFields(new table.PanelBuilder(), { ...spec, queries: spec.queries.map((q) => ({ ...q, instant: true, table: true })) }, 24)
    .withTransformation({
      id: 'organize',
      options: { excludeByName: { Time: true }, renameByName: { Value: spec.valueColumn } },
    })
    .cellOptions({ type: common.TableCellDisplayMode.ColorText });
  return builder;
}

// ---------------------------------------------------------------------------------------------
// Template variables

/** Lets a user point the dashboard at another Prometheus: every panel and variable uses `${datasource}`. Default: the provisioned one. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: PROMETHEUS_DATASOURCE_UID });
}

const ALL_SELECTED: dashboard.VariableOption = { selected: true, text: ['All'], value: ['$__all'] };

export interface QueryVariableSpec {
  name: string;
  label: string;
  /** `label_values(<series selector>, <label>)`. */
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  sort?: dashboard.VariableSort;
}

/** Label values refreshed on every time range change, so new jobs and test runs appear. */
export function queryVariable(spec: QueryVariableSpec): dashboard.QueryVariableBuilder {
  const multi = spec.multi ?? true;
  const includeAll = spec.includeAll ?? true;
  const builder = new dashboard.QueryVariableBuilder(spec.name)
    .label(spec.label)
    .datasource(PROMETHEUS)
    .query(spec.query)
    .definition(spec.query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(spec.sort ?? dashboard.VariableSort.AlphabeticalAsc)
    .multi(multi)
    .includeAll(includeAll);
  // ".*" rather than a list of every value: also matches series that lack the label.
  if (includeAll) builder.allValue('.*').current(ALL_SELECTED);
  return builder;
}

/** Fixed options from the config (e.g. SLO names). */
export function customVariable(name: string, label: string, values: readonly string[]): dashboard.CustomVariableBuilder {
  return new dashboard.CustomVariableBuilder(name)
    .label(label)
    .values(values.join(','))
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current(ALL_SELECTED);
}

/** datasource, job and instance, with jobs taken from the series that this dashboard is about. */
export function standardVariables(jobSeries: string): cog.Builder<dashboard.VariableModel>[] {
  return [
    datasourceVariable(),
    queryVariable({ name: 'job', label: 'Job (service)', query: `label_values(${jobSeries}, job)` }),
    queryVariable({
      name: 'instance',
      label: 'Instance',
      query: `label_values(${addMatchers(jobSeries, ['job=~"$job"'])}, instance)`,
    }),
  ];
}

/** Adds matchers to a series selector that may already have some (`m`, `m{a}` or `{a}`). */
function addMatchers(seriesSelector: string, matchers: readonly string[]): string {
  const close = seriesSelector.lastIndexOf('}');
  if (close === -1) return selector(seriesSelector, matchers);
  const inner = seriesSelector.slice(seriesSelector.indexOf('{') + 1, close).trim();
  const head = seriesSelector.slice(0, seriesSelector.indexOf('{'));
  return `${head}{${[inner, ...matchers].filter((m) => m !== '').join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Dashboards

export interface Section {
  /** Row title. */
  title: string;
  panels: AnyPanelBuilder[];
}

export interface DashboardSpec {
  key: DashboardKey;
  title: string;
  description: string;
  tags: string[];
  variables: cog.Builder<dashboard.VariableModel>[];
  sections: Section[];
  /** Default time range, e.g. now-1h. */
  from?: string;
  /** Event markers drawn on every time series (e.g. regression verdicts). */
  annotations?: dashboard.AnnotationQueryBuilder[];
}

const DASHBOARD_TITLES: Record<DashboardKey, string> = {
  service: 'Service overview',
  database: 'Database',
  k6: 'Load tests (k6)',
  slo: 'SLOs',
  host: 'Host and process',
  regression: 'Performance regressions',
  frontend: 'Front end',
};

/** Titles of the dashboards, for links and for the dashboards themselves. */
export function dashboardTitle(key: DashboardKey): string {
  return `perfstack / ${DASHBOARD_TITLES[key]}`;
}

/** Links to the other dashboards; carry the time range and variables across. */
function linksToOtherDashboards(self: DashboardKey): dashboard.DashboardLinkBuilder[] {
  return (Object.keys(DASHBOARD_UIDS) as DashboardKey[])
    .filter((key) => key !== self)
    .map((key) =>
      new dashboard.DashboardLinkBuilder(DASHBOARD_TITLES[key])
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${DASHBOARD_UIDS[key]}`)
        .tooltip(dashboardTitle(key))
        .icon('dashboard')
        .includeVars(true)
        .keepTime(true),
    );
}

/**
 * Builds a dashboard with expanded rows. Panel ids are assigned in order (rows included) and
 * the builder lays panels out left to right, top to bottom, so ids and gridPos are deterministic.
 */
export function composeDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(dashboardTitle(spec.key))
    .uid(DASHBOARD_UIDS[spec.key])
    .description(spec.description)
    .tags(['perfstack', ...spec.tags])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: spec.from ?? 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables(spec.variables)
    .links(linksToOtherDashboards(spec.key));
  for (const annotation of spec.annotations ?? []) builder.annotation(annotation);
  let nextId = 1;
  for (const section of spec.sections) {
    builder.withRow(new dashboard.RowBuilder(section.title).collapsed(false).id(nextId++));
    for (const panel of section.panels) {
      panel.id(nextId++);
      builder.withPanel(panel);
    }
  }
  const built = builder.build();
  // The SDK defaults every link into the controls dropdown; keep them visible in the header.
  for (const link of built.links ?? []) delete link.placement;
  return built;
}
