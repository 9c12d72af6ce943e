import { parser } from '@prometheus-io/lezer-promql';
import { checkPromql, substituteGrafanaVariables } from '../metrics/index.js';
import { DATASOURCE_VARIABLE_REF, PROMETHEUS_DATASOURCE_UID } from './uids.js';

// Checks generated dashboard JSON against the conventions in DESIGN.md. It reads plain JSON
// (not SDK types) so it also catches hand-edited or stale files.

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** Every panel, rows and the panels nested in (collapsed) rows included, in document order. */
function allPanels(dashboardJson: JsonObject): JsonObject[] {
  const out: JsonObject[] = [];
  const visit = (panels: unknown) => {
    for (const panel of asArray(panels)) {
      if (!isObject(panel)) continue;
      out.push(panel);
      visit(panel.panels);
    }
  };
  visit(dashboardJson.panels);
  return out;
}

function panelName(panel: JsonObject): string {
  return `panel ${typeof panel.id === 'number' ? panel.id : '?'} "${typeof panel.title === 'string' ? panel.title : ''}"`;
}

function templateVariables(dashboardJson: JsonObject): JsonObject[] {
  const templating = dashboardJson.templating;
  return isObject(templating) ? asArray(templating.list).filter(isObject) : [];
}

/** The text of a query variable's query (a string, or {query: string} in newer Grafana). */
function variableQueryText(variable: JsonObject): string | undefined {
  const query = variable.query;
  if (typeof query === 'string') return query;
  if (isObject(query) && typeof query.query === 'string') return query.query;
  return undefined;
}

/**
 * The PromQL behind a Prometheus query variable: `label_values(sel, label)` reads the series
 * `sel`, `label_values(label)` any series with that label, `query_result(expr)` runs `expr`.
 * Other forms (metrics(), label_names()) have no PromQL and give undefined.
 */
export function variablePromql(query: string): string | undefined {
  const text = query.trim();
  const labelValues = /^label_values\(\s*([\s\S]*?)\s*,\s*([a-zA-Z_]\w*)\s*\)$/.exec(text);
  if (labelValues) return labelValues[1];
  const labelOnly = /^label_values\(\s*([a-zA-Z_]\w*)\s*\)$/.exec(text);
  if (labelOnly) return `{${labelOnly[1]}!=""}`;
  const queryResult = /^query_result\(([\s\S]*)\)$/.exec(text);
  if (queryResult) return queryResult[1]?.trim();
  if (/^(metrics|label_names)\(/.test(text)) return undefined;
  return text;
}

/** Every PromQL expression of a dashboard: panel targets, then query variables. */
export function dashboardQueries(dashboardJson: unknown): { panel: string; expr: string }[] {
  if (!isObject(dashboardJson)) return [];
  const queries: { panel: string; expr: string }[] = [];
  for (const panel of allPanels(dashboardJson)) {
    for (const target of asArray(panel.targets)) {
      if (isObject(target) && typeof target.expr === 'string') queries.push({ panel: String(panel.title ?? ''), expr: target.expr });
    }
  }
  for (const variable of templateVariables(dashboardJson)) {
    if (variable.type !== 'query') continue;
    const query = variableQueryText(variable);
    const expr = query === undefined ? undefined : variablePromql(query);
    if (expr !== undefined) queries.push({ panel: `variable $${String(variable.name)}`, expr });
  }
  return queries;
}

const RATE_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
const RATE_INTERVAL_MACRO = /\$__rate_interval|\$\{__rate_interval\}/g;
// A duration nobody writes by hand, standing in for $__rate_interval so the parser keeps it apart.
const RATE_INTERVAL_STAND_IN = '7654321ms';

/** Range windows of rate()/irate()/increase() that are not $__rate_interval. */
export function wrongRateWindows(expr: string): string[] {
  const parsable = substituteGrafanaVariables(expr.replace(RATE_INTERVAL_MACRO, RATE_INTERVAL_STAND_IN));
  const problems: string[] = [];
  parser.parse(parsable).iterate({
    enter(ref) {
      if (ref.name !== 'FunctionCall') return;
      const call = ref.node;
      const identifier = call.getChild('FunctionIdentifier');
      const name = identifier ? parsable.slice(identifier.from, identifier.to) : '';
      if (!RATE_FUNCTIONS.has(name)) return;
      const body = call.getChild('FunctionCallBody');
      const range = body?.getChild('MatrixSelector') ?? body?.getChild('SubqueryExpr');
      const window = range?.getChild('DurationExpr');
      if (!window) return;
      const text = parsable.slice(window.from, window.to);
      if (text !== RATE_INTERVAL_STAND_IN) problems.push(`${name}() uses the window [${text}] instead of [$__rate_interval]`);
    },
  });
  return problems;
}

/** Syntax and rate-window problems of one expression. */
function exprProblems(expr: string): string[] {
  const syntax = checkPromql(substituteGrafanaVariables(expr));
  if (syntax) return [`does not parse: ${syntax.message}`];
  return wrongRateWindows(expr);
}

function datasourceUid(value: unknown): unknown {
  return isObject(value) ? value.uid : undefined;
}

/** Problems with one dashboard's JSON; an empty list means it follows the conventions. */
export function lintDashboard(dashboardJson: unknown): string[] {
  if (!isObject(dashboardJson)) return ['dashboard is not a JSON object'];
  const problems: string[] = [];
  const idsSeen = new Map<number, string>();

  // The $datasource variable drives everything, and defaults to the provisioned datasource.
  const datasourceVariable = templateVariables(dashboardJson).find((v) => v.type === 'datasource' && v.name === 'datasource');
  if (!datasourceVariable) problems.push('has no $datasource variable (type datasource)');
  else {
    if (datasourceVariable.query !== 'prometheus') problems.push(`variable $datasource: query is ${JSON.stringify(datasourceVariable.query)}, expected "prometheus"`);
    const current = isObject(datasourceVariable.current) ? datasourceVariable.current.value : undefined;
    if (current !== undefined && current !== PROMETHEUS_DATASOURCE_UID) problems.push(`variable $datasource: defaults to ${JSON.stringify(current)}, expected "${PROMETHEUS_DATASOURCE_UID}"`);
  }

  for (const panel of allPanels(dashboardJson)) {
    const name = panelName(panel);
    if (typeof panel.id !== 'number') {
      problems.push(`${name}: has no numeric id`);
    } else {
      const previous = idsSeen.get(panel.id);
      if (previous !== undefined) problems.push(`${name}: id ${panel.id} is already used by ${previous}`);
      else idsSeen.set(panel.id, name);
    }
    if (!nonEmptyString(panel.title)) problems.push(`${name}: has no title`);
    if (panel.type === 'row') continue;

    if (!nonEmptyString(panel.description)) problems.push(`${name}: has no description`);
    const defaults = isObject(panel.fieldConfig) && isObject(panel.fieldConfig.defaults) ? panel.fieldConfig.defaults : {};
    if (!nonEmptyString(defaults.unit)) problems.push(`${name}: has no unit (fieldConfig.defaults.unit)`);
    if (datasourceUid(panel.datasource) !== DATASOURCE_VARIABLE_REF) {
      problems.push(`${name}: datasource uid is ${JSON.stringify(datasourceUid(panel.datasource))}, expected "${DATASOURCE_VARIABLE_REF}"`);
    }
    const targets = asArray(panel.targets).filter(isObject);
    if (targets.length === 0) problems.push(`${name}: has no queries`);
    for (const target of targets) {
      const where = `${name} query ${String(target.refId ?? '?')}`;
      if (datasourceUid(target.datasource) !== DATASOURCE_VARIABLE_REF) {
        problems.push(`${where}: datasource uid is ${JSON.stringify(datasourceUid(target.datasource))}, expected "${DATASOURCE_VARIABLE_REF}"`);
      }
      if (!nonEmptyString(target.expr)) problems.push(`${where}: has no expr`);
      else for (const problem of exprProblems(target.expr)) problems.push(`${where}: ${problem}`);
    }
  }

  for (const variable of templateVariables(dashboardJson)) {
    if (variable.type !== 'query') continue;
    const name = `variable $${String(variable.name)}`;
    if (variable.refresh !== 2) problems.push(`${name}: refresh is ${JSON.stringify(variable.refresh)}, expected 2 (on time range change)`);
    if (datasourceUid(variable.datasource) !== DATASOURCE_VARIABLE_REF) {
      problems.push(`${name}: datasource uid is ${JSON.stringify(datasourceUid(variable.datasource))}, expected "${DATASOURCE_VARIABLE_REF}"`);
    }
    const query = variableQueryText(variable);
    const expr = query === undefined ? undefined : variablePromql(query);
    if (query === undefined) problems.push(`${name}: has no query`);
    else if (expr !== undefined) for (const problem of exprProblems(expr)) problems.push(`${name}: ${problem}`);
  }
  return problems;
}
