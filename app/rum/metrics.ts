// The RUM series on the service's registry: one histogram per Web Vital labelled {page} (page
// templates from the config plus "other": bounded), the rejected-beacon counter by reason, and the
// JavaScript size of each page template.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FrontendConfig } from '../../config/index.js';
import { RUM_BUCKETS, rum, withTarget } from '../../metrics/index.js';
import { REJECT_REASONS, type RejectReason, type VitalSample, type VitalName } from './beacon.js';

export interface RumMetrics {
  observe(page: string, samples: readonly VitalSample[]): void;
  reject(reason: RejectReason): void;
  /** Sets the JavaScript size of a page template. */
  setJavascriptBytes(page: string, bytes: number): void;
}

/** Each vital's metric name, default buckets and the config target added to them. */
export function vitalHistograms(frontend: FrontendConfig): Record<VitalName, { metric: string; help: string; buckets: number[] }> {
  return {
    LCP: { metric: rum.lcp, help: 'Largest Contentful Paint of real page loads, in seconds.', buckets: withTarget(RUM_BUCKETS.lcp, frontend.lcpSeconds) },
    FCP: { metric: rum.fcp, help: 'First Contentful Paint of real page loads, in seconds.', buckets: withTarget(RUM_BUCKETS.fcp, frontend.fcpSeconds) },
    INP: { metric: rum.inp, help: 'Interaction to Next Paint of real page loads, in seconds.', buckets: withTarget(RUM_BUCKETS.inp, frontend.inpSeconds) },
    TTFB: { metric: rum.ttfb, help: 'Time to First Byte of real page loads, in seconds.', buckets: withTarget(RUM_BUCKETS.ttfb, frontend.ttfbSeconds) },
    CLS: { metric: rum.cls, help: 'Cumulative Layout Shift of real page loads (unitless score).', buckets: withTarget(RUM_BUCKETS.cls, frontend.cls) },
  };
}

/** Registers the RUM series. Every known page (and "other") and every reason starts at zero, so rate() sees the first beacon. */
export function createRumMetrics(registry: Registry, frontend: FrontendConfig): RumMetrics {
  const pages = [...frontend.pages, rum.otherPage];
  const histograms = Object.fromEntries(
    Object.entries(vitalHistograms(frontend)).map(([name, spec]) => {
      const histogram = new Histogram({ name: spec.metric, help: spec.help, labelNames: [rum.labels.page], buckets: spec.buckets, registers: [registry] });
      for (const page of pages) histogram.zero({ [rum.labels.page]: page });
      return [name, histogram];
    }),
  ) as Record<VitalName, Histogram<string>>;
  const rejected = new Counter({
    name: rum.beaconsRejected,
    help: 'RUM beacons answered 400, by reason (content_type, too_large, not_json, invalid).',
    labelNames: [rum.labels.reason],
    registers: [registry],
  });
  for (const reason of REJECT_REASONS) rejected.inc({ [rum.labels.reason]: reason }, 0);
  const javascript = new Gauge({
    name: rum.javascriptBytes,
    help: 'Bytes of JavaScript a page template loads (its script files as served, uncompressed).',
    labelNames: [rum.labels.page],
    registers: [registry],
  });
  return {
    observe(page, samples) {
      for (const sample of samples) histograms[sample.name].observe({ [rum.labels.page]: page }, sample.value);
    },
    reject(reason) {
      rejected.inc({ [rum.labels.reason]: reason });
    },
    setJavascriptBytes(page, bytes) {
      javascript.set({ [rum.labels.page]: page }, bytes);
    },
  };
}
