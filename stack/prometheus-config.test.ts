import { describe, expect, it } from 'vitest';
import defaults from '../perfstack.config.js';
import { parseConfig } from '../config/index.js';
import { INFRASTRUCTURE_JOBS } from '../metrics/index.js';
import { composeTargets, prometheusConfig, SERVICE_SCRAPE_INTERVAL, serviceScrapeInterval } from './index.js';

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

describe('the redis job', () => {
  it('scrapes redis_exporter under INFRASTRUCTURE_JOBS.redis when it has a target, and is absent without one', () => {
    const jobsOf = (extra: object) => (prometheusConfig(config, { ...targets, ...extra }) as { scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[] }).scrape_configs;
    expect(jobsOf({ redisExporter: '127.0.0.1:9121' }).find((j) => j.job_name === INFRASTRUCTURE_JOBS.redis)?.static_configs).toEqual([{ targets: ['127.0.0.1:9121'] }]);
    expect(jobsOf({}).map((j) => j.job_name)).not.toContain(INFRASTRUCTURE_JOBS.redis);
    expect(INFRASTRUCTURE_JOBS.redis).toBe('redis');
    // Compose reaches the exporter by its service name.
    expect(composeTargets(config).redisExporter).toBe('redis-exporter:9121');
  });
});
