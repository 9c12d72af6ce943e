import { describe, expect, it } from 'vitest';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { filesFromGenerated, generateAll, reviewSummary } from '../cli/index.js';

const generated = (edit: (config: typeof defaults) => void = () => undefined) => {
  const copy = structuredClone(defaults);
  edit(copy);
  return filesFromGenerated(generateAll(parseConfig(copy)));
};

describe('perfstack summary', () => {
  it('says nothing changed when nothing did', () => {
    expect(reviewSummary(generated(), generated())).toContain('No change to rules, dashboards, routing or k6 thresholds.');
  });

  it('names the alert, the panel and the k6 threshold a tighter p95 SLA changes', () => {
    const summary = reviewSummary(
      generated(),
      generated((c) => {
        c.services[0]!.sla.latency = { p95Seconds: 0.25 };
      }),
    );
    expect(summary).toMatch(/changed alert ServiceLatencyP95High \{service=api, severity=warning\}: expression `.*> 0\.5` → `.*> 0\.25`/);
    expect(summary).toContain('"perfstack / Service overview" panel "Reference API: p95 latency by route": thresholds 0.5 → 0.25');
    expect(summary).toContain('k6 thresholds threshold http_req_duration{service:api}: p(95)<500 → p(95)<250');
    expect(summary).not.toContain('ServiceLatencyP50High');
  });

  it('lists added and removed alerts when an SLO is added or dropped', () => {
    const summary = reviewSummary(
      generated(),
      generated((c) => {
        c.slos = c.slos!.filter((slo) => slo.name !== 'search-availability');
      }),
    );
    expect(summary).toMatch(/removed alert SLOErrorBudgetBurn \{.*slo=search-availability/);
    expect(summary).toMatch(/removed recording rule slo:sli_error:ratio_rate5m \{.*slo=search-availability/);
  });
});
