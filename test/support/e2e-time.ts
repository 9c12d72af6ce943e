// Time compression for end-to-end alert tests, and for nothing else.
//
// The generated rules look at 5m…30d windows and wait `for:` 1m…1h before firing. A test cannot
// wait that long, so the alert tests rewrite the generated rule YAML text before Prometheus loads it:
//
//   - every PromQL range selector `[5m]` (and subquery range `[1h:5m]`) in an `expr:` becomes `[10s]`
//     (a subquery keeps its shape: `[10s:1s]`);
//   - every `for:` becomes `2s`.
//
// Nothing else changes: metric names, label matchers, thresholds, labels, annotations and the
// recording-rule names (`…:p95_rate5m` keeps its name; only its window shrinks). String literals in
// the PromQL are skipped, so a label value that happens to contain "[5m]" is left alone.
//
// promtool unit tests (alerts/) prove the rules with their real windows; a test that loads
// compressed rules proves the wiring: metric → rule → Alertmanager route → Slack message.

import { parseDocument, isMap, isSeq } from 'yaml';

export interface CompressOptions {
  /** Replaces every range selector's duration. Default "10s" (ten 1 s scrapes). */
  range?: string;
  /** Replaces every alert's `for:`. Default "2s". */
  for?: string;
  /** Resolution of subqueries `[range:resolution]`. Default "1s". */
  subqueryStep?: string;
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** Rewrites the range selectors of one PromQL expression (outside string literals). */
export function compressRanges(expr: string, range = '10s', subqueryStep = '1s'): string {
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === '"' || ch === "'" || ch === '`') {
      // Copy the string literal verbatim, honouring backslash escapes (not in backtick strings).
      let j = i + 1;
      while (j < expr.length && expr[j] !== ch) j += ch !== '`' && expr[j] === '\\' ? 2 : 1;
      out += expr.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === '[') {
      const close = expr.indexOf(']', i);
      if (close > i) {
        const inside = expr.slice(i + 1, close).replace(/\s+/g, '');
        const [window, step, ...rest] = inside.split(':');
        if (window && DURATION.test(window) && rest.length === 0 && (step === undefined || step === '' || DURATION.test(step))) {
          out += step === undefined ? `[${range}]` : `[${range}:${subqueryStep}]`;
          i = close + 1;
          continue;
        }
      }
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * Takes the text of a Prometheus rule file and returns it with compressed time (see above).
 * Throws when the text is not a rule file (no `groups:` list).
 */
export function compressRuleTime(yamlText: string, options: CompressOptions = {}): string {
  const range = options.range ?? '10s';
  const forDuration = options.for ?? '2s';
  const step = options.subqueryStep ?? '1s';
  const document = parseDocument(yamlText);
  if (document.errors.length > 0) throw new Error(`compressRuleTime: not YAML: ${document.errors[0]!.message}`);
  const groups = document.get('groups');
  if (!isSeq(groups)) throw new Error('compressRuleTime: not a Prometheus rule file (no "groups:" list)');
  for (const group of groups.items) {
    if (!isMap(group)) continue;
    const rules = group.get('rules');
    if (!isSeq(rules)) continue;
    for (const rule of rules.items) {
      if (!isMap(rule)) continue;
      const expr = rule.get('expr');
      if (typeof expr === 'string') rule.set('expr', compressRanges(expr, range, step));
      if (rule.has('for')) rule.set('for', forDuration);
    }
  }
  return document.toString({ lineWidth: 0 });
}
