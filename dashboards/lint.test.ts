import { describe, expect, it } from 'vitest';
import { lintDashboard } from './index.js';
import { DATASOURCE_VARIABLE_REF } from './uids.js';
import { variablePromql, wrongRateWindows } from './lint.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource: { type: string; uid: string };
  fieldConfig: { defaults: { unit?: string }; overrides: unknown[] };
  targets: { refId: string; datasource: { type: string; uid: string }; expr: string }[];
}

// A small dashboard that follows every rule; each test breaks one thing and expects lint to say so.
function validDashboard() {
  const ds = { type: 'prometheus', uid: DATASOURCE_VARIABLE_REF };
  const panel = (id: number, title: string, expr: string): Panel => ({
    id,
    type: 'timeseries',
    title,
    description: `${title} explained`,
    datasource: { ...ds },
    fieldConfig: { defaults: { unit: 'reqps' }, overrides: [] },
    targets: [{ refId: 'A', datasource: { ...ds }, expr }],
  });
  return {
    uid: 'x',
    panels: [
      { id: 1, type: 'row', title: 'Open row', panels: [] },
      panel(2, 'Requests', 'sum(rate(http_server_request_duration_seconds_count{job=~"$job"}[$__rate_interval]))'),
      {
        id: 3,
        type: 'row',
        title: 'Collapsed row',
        collapsed: true,
        panels: [panel(4, 'Nested', 'sum(increase(k6_http_reqs_total{testid=~"$testid"}[$__rate_interval]))')],
      },
    ],
    templating: {
      list: [
        { type: 'datasource', name: 'datasource', query: 'prometheus' },
        { type: 'query', name: 'job', refresh: 2, datasource: { ...ds }, query: 'label_values(up, job)' },
      ],
    },
  };
}

type Dashboard = ReturnType<typeof validDashboard>;

function broken(change: (d: Dashboard) => void): string[] {
  const dashboard = validDashboard();
  change(dashboard);
  return lintDashboard(dashboard);
}

const topPanel = (d: Dashboard) => d.panels[1] as Panel;
const nestedPanel = (d: Dashboard) => (d.panels[2] as { panels: Panel[] }).panels[0]!;

describe('lintDashboard', () => {
  it('accepts the valid fixture', () => {
    expect(lintDashboard(validDashboard())).toEqual([]);
  });

  it('rejects something that is not a dashboard', () => {
    expect(lintDashboard(null)).toEqual(['dashboard is not a JSON object']);
  });

  it('reports a missing unit, also inside a collapsed row', () => {
    expect(broken((d) => delete topPanel(d).fieldConfig.defaults.unit)).toEqual(['panel 2 "Requests": has no unit (fieldConfig.defaults.unit)']);
    expect(broken((d) => (nestedPanel(d).fieldConfig.defaults.unit = ''))).toEqual(['panel 4 "Nested": has no unit (fieldConfig.defaults.unit)']);
  });

  it('reports a missing title or description', () => {
    expect(broken((d) => (topPanel(d).description = ' '))).toEqual(['panel 2 "Requests": has no description']);
    expect(broken((d) => (nestedPanel(d).title = ''))).toEqual(['panel 4 "": has no title']);
  });

  it('reports a panel or target on another datasource', () => {
    expect(broken((d) => (topPanel(d).datasource.uid = 'other'))).toEqual([
      `panel 2 "Requests": datasource uid is "other", expected "\${datasource}"`,
    ]);
    // A query pinned to the provisioned uid ignores the $datasource picker.
    expect(broken((d) => (nestedPanel(d).targets[0]!.datasource = { type: 'prometheus', uid: 'perfstack-prometheus' }))).toEqual([
      `panel 4 "Nested" query A: datasource uid is "perfstack-prometheus", expected "\${datasource}"`,
    ]);
  });

  it('reports rate, irate and increase windows that are not $__rate_interval', () => {
    expect(broken((d) => (topPanel(d).targets[0]!.expr = 'sum(rate(http_server_request_duration_seconds_count[5m]))'))).toEqual([
      'panel 2 "Requests" query A: rate() uses the window [5m] instead of [$__rate_interval]',
    ]);
    expect(broken((d) => (nestedPanel(d).targets[0]!.expr = 'increase(k6_http_reqs_total[$__interval]) + irate(up[1m])'))).toEqual([
      'panel 4 "Nested" query A: increase() uses the window [5m] instead of [$__rate_interval]',
      'panel 4 "Nested" query A: irate() uses the window [1m] instead of [$__rate_interval]',
    ]);
  });

  it('reports duplicate panel ids, rows included', () => {
    expect(broken((d) => (nestedPanel(d).id = 2))).toEqual(['panel 2 "Nested": id 2 is already used by panel 2 "Requests"']);
    expect(broken((d) => (d.panels[2]!.id = 1))).toEqual(['panel 1 "Collapsed row": id 1 is already used by panel 1 "Open row"']);
  });

  it('reports a query variable that is not refreshed on time range change', () => {
    expect(broken((d) => ((d.templating.list[1] as { refresh: number }).refresh = 1))).toEqual([
      'variable $job: refresh is 1, expected 2 (on time range change)',
    ]);
  });

  it('reports an expression that does not parse, in a panel or a variable', () => {
    const problems = broken((d) => (topPanel(d).targets[0]!.expr = 'sum(rate(up[$__rate_interval])'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^panel 2 "Requests" query A: does not parse: syntax error/);
    const variableProblems = broken((d) => ((d.templating.list[1] as { query: string }).query = 'label_values(up{job=}, job)'));
    expect(variableProblems).toHaveLength(1);
    expect(variableProblems[0]).toMatch(/^variable \$job: does not parse/);
  });

  it('reports every problem at once', () => {
    const problems = broken((d) => {
      delete topPanel(d).fieldConfig.defaults.unit;
      nestedPanel(d).id = 2;
      nestedPanel(d).targets[0]!.expr = 'rate(up[1h])';
    });
    expect(problems).toHaveLength(3);
  });
});

describe('helpers', () => {
  it('finds the PromQL behind variable queries', () => {
    expect(variablePromql('label_values(up{job=~"$job"}, instance)')).toBe('up{job=~"$job"}');
    expect(variablePromql('label_values({__name__=~"a|b", job="x"}, instance)')).toBe('{__name__=~"a|b", job="x"}');
    expect(variablePromql('label_values(testid)')).toBe('{testid!=""}');
    expect(variablePromql('query_result(topk(5, up))')).toBe('topk(5, up)');
    expect(variablePromql('metrics(k6_.*)')).toBeUndefined();
  });

  it('checks windows of subqueries and nested calls', () => {
    expect(wrongRateWindows('max_over_time(rate(up[$__rate_interval])[1h:5m])')).toEqual([]);
    expect(wrongRateWindows('rate(up[${__rate_interval}])')).toEqual([]);
    expect(wrongRateWindows('rate(rate(up[$__rate_interval])[10m:1m])')).toEqual(['rate() uses the window [10m] instead of [$__rate_interval]']);
    expect(wrongRateWindows('avg_over_time(up[1h])')).toEqual([]);
  });
});
