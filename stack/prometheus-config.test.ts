import { describe, expect, it } from 'vitest';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { prometheusConfig, SERVICE_SCRAPE_INTERVAL, serviceScrapeInterval } from './index.js';

const config = parseConfig(defaults);
const targets = { serviceTargets: { 'perfstack-app': '127.0.0.1:8080' }, pgStats: 'a:1', nodeExporter: 'b:1', prometheus: 'c:1', alertmanager: 'd:1' };
type Job = { job_name: string; scrape_interval?: string };

describe('the services’ scrape interval', () => {
  it('is 5 s when the global interval is longer, the global one when it is shorter', () => {
    expect(SERVICE_SCRAPE_INTERVAL).toBe('5s');
    expect(serviceScrapeInterval('15s')).toBe('5s');
    expect(serviceScrapeInterval('1m')).toBe('5s');
    expect(serviceScrapeInterval('5s')).toBe('5s');
    expect(serviceScrapeInterval('1s')).toBe('1s');
    expect(serviceScrapeInterval('500ms')).toBe('500ms');
  });

  it('applies to the service jobs only; exporters keep the global interval', () => {
    const jobs = (prometheusConfig({ ...config, scrape: { interval: '15s', evaluationInterval: '15s' } }, targets) as { scrape_configs: Job[] }).scrape_configs;
    expect(jobs.find((j) => j.job_name === 'perfstack-app')?.scrape_interval).toBe('5s');
    expect(jobs.filter((j) => j.job_name !== 'perfstack-app').every((j) => j.scrape_interval === undefined)).toBe(true);
    const fast = (prometheusConfig({ ...config, scrape: { interval: '1s', evaluationInterval: '1s' } }, targets) as { scrape_configs: Job[] }).scrape_configs;
    expect(fast.every((j) => j.scrape_interval === undefined)).toBe(true);
  });
});
