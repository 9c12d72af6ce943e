import { parser } from '@prometheus-io/lezer-promql';

// Grafana fills these in before a query reaches Prometheus; give the parser a stand-in
// of the same syntactic kind so that only real PromQL mistakes are reported.
const GRAFANA_SUBSTITUTIONS: [RegExp, string][] = [
  [/\$__range_s|\$\{__range_s\}/g, '300'],
  [/\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}|\$\{__interval\}|\$\{__range\}/g, '5m'],
  [/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, 'x'],
];

/** Replaces Grafana macros and template variables with values the PromQL parser accepts. */
export function substituteGrafanaVariables(expr: string): string {
  return GRAFANA_SUBSTITUTIONS.reduce((out, [pattern, value]) => out.replace(pattern, value), expr);
}

export interface PromqlProblem {
  /** Character offset of the first syntax error. */
  offset: number;
  message: string;
}

/** Parses PromQL with Prometheus's own lezer grammar; returns the first syntax error, if any. */
export function checkPromql(expr: string): PromqlProblem | undefined {
  if (expr.trim() === '') return { offset: 0, message: 'empty expression' };
  const tree = parser.parse(expr);
  let problem: PromqlProblem | undefined;
  tree.iterate({
    enter(node) {
      if (problem) return false;
      if (node.type.isError) {
        const near = expr.slice(Math.max(0, node.from - 10), node.to + 10);
        problem = { offset: node.from, message: `syntax error at offset ${node.from} near "${near}"` };
        return false;
      }
      return undefined;
    },
  });
  return problem;
}

/** Metric names a PromQL expression selects (for checking them against a live Prometheus). */
export function metricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  tree.iterate({
    enter(node) {
      if (node.name === 'VectorSelector') {
        const first = node.node.firstChild;
        if (first && first.name === 'Identifier') names.add(expr.slice(first.from, first.to));
      }
    },
  });
  return [...names].sort();
}
