// The metrics k6's browser module emits, with k6's names, types and value kinds. CLS is a score
// (k6 keeps it as a plain trend); every other Web Vital and the request duration are times in ms.

export interface BrowserMetric {
  readonly name: string;
  readonly type: 'trend' | 'counter' | 'gauge' | 'rate';
  readonly contains: 'default' | 'time' | 'data';
}

const trend = (name: string, contains: 'default' | 'time'): BrowserMetric => ({ name, type: 'trend', contains });

export const BROWSER_METRICS = {
  webVitalFcp: trend('browser_web_vital_fcp', 'time'),
  webVitalLcp: trend('browser_web_vital_lcp', 'time'),
  webVitalCls: trend('browser_web_vital_cls', 'default'),
  webVitalInp: trend('browser_web_vital_inp', 'time'),
  webVitalTtfb: trend('browser_web_vital_ttfb', 'time'),
  httpReqDuration: trend('browser_http_req_duration', 'time'),
  httpReqFailed: { name: 'browser_http_req_failed', type: 'rate', contains: 'default' },
  dataReceived: { name: 'browser_data_received', type: 'counter', contains: 'data' },
  dataSent: { name: 'browser_data_sent', type: 'counter', contains: 'data' },
} as const satisfies Record<string, BrowserMetric>;

/** web-vitals' metric name (`metric.name`) → k6's metric. */
export const WEB_VITAL_METRICS: Readonly<Record<string, BrowserMetric>> = {
  FCP: BROWSER_METRICS.webVitalFcp,
  LCP: BROWSER_METRICS.webVitalLcp,
  CLS: BROWSER_METRICS.webVitalCls,
  INP: BROWSER_METRICS.webVitalInp,
  TTFB: BROWSER_METRICS.webVitalTtfb,
};

export type EmitFn = (metric: BrowserMetric, value: number, tags: Record<string, string>) => void;
