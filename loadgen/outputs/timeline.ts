// The run's timeline for the HTML report: per interval (1 s) the VUs, requests, failures,
// iterations, data and the latency percentiles of that interval alone (not since the start).

import type { MetricRegistry } from '../metrics/registry.js';
import { TrendAggregate } from '../metrics/trend.js';
import type { RunTimeline, TimelinePoint } from './html-report/index.js';

export class TimelineRecorder {
  readonly points: TimelinePoint[] = [];
  private current = { requests: 0, failed: 0, iterations: 0, dropped: 0, sent: 0, received: 0 };
  private readonly latency = new TrendAggregate();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    registry: MetricRegistry,
    private readonly vus: () => { vus: number; vusMax: number },
    readonly intervalMs = 1000,
  ) {
    this.unsubscribe = registry.onSample((metric, value) => {
      switch (metric.info.name) {
        case 'http_reqs':
          this.current.requests += value;
          break;
        case 'http_req_failed':
          if (value !== 0) this.current.failed += 1;
          break;
        case 'http_req_duration':
          this.latency.add(value);
          break;
        case 'iterations':
          this.current.iterations += value;
          break;
        case 'dropped_iterations':
          this.current.dropped += value;
          break;
        case 'data_sent':
          this.current.sent += value;
          break;
        case 'data_received':
          this.current.received += value;
          break;
      }
    });
    this.timer = setInterval(() => this.cut(), intervalMs);
    this.timer.unref();
  }

  private cut(): void {
    const { vus, vusMax } = this.vus();
    const l = this.latency;
    this.points.push({
      t: Date.now() - this.startedAt,
      vus,
      vusMax,
      requests: this.current.requests,
      failedRequests: this.current.failed,
      iterations: this.current.iterations,
      droppedIterations: this.current.dropped,
      dataSentBytes: this.current.sent,
      dataReceivedBytes: this.current.received,
      latency: l.count === 0 ? null : { p50: l.percentile(50), p90: l.percentile(90), p95: l.percentile(95), p99: l.percentile(99), max: l.max },
    });
    this.current = { requests: 0, failed: 0, iterations: 0, dropped: 0, sent: 0, received: 0 };
    l.reset();
  }

  stop(): RunTimeline {
    clearInterval(this.timer);
    this.unsubscribe();
    this.cut();
    return { points: this.points, intervalMs: this.intervalMs };
  }
}
