// The k6 modules perfstack's engine implements, and what each exports. The script check refuses
// anything else before any load starts, and docs/load-engine.md lists the same table.

import * as core from './core.js';
import execution from './execution.js';
import http from './http.js';
import * as metrics from './metrics.js';
import * as timers from './timers.js';

export interface ModuleSpec {
  /** Named exports (and members of the default export) the engine provides. */
  names: readonly string[];
  /** Names k6 has that perfstack refuses, with what to use instead. */
  refused?: Readonly<Record<string, string>>;
}

const SYNC_HTTP = 'it is synchronous and would block every VU of the shared event loop; use `await http.asyncRequest(method, url, body, params)`';

export const MODULES: Readonly<Record<string, ModuleSpec>> = {
  k6: {
    names: ['check', 'group', 'fail'],
    refused: {
      sleep: 'it blocks; await a timer instead: `await new Promise((r) => setTimeout(r, ms))` (setTimeout from k6/timers)',
      randomSeed: 'VUs share one random generator in perfstack’s engine',
    },
  },
  'k6/http': {
    names: ['asyncRequest', 'expectedStatuses', 'setResponseCallback'],
    refused: {
      ...Object.fromEntries(['get', 'post', 'put', 'patch', 'del', 'head', 'options', 'request', 'batch'].map((n) => [n, SYNC_HTTP])),
      asyncBatch: 'not implemented; issue the requests with asyncRequest and Promise.all',
      file: 'multipart file uploads are not implemented; send the bytes as the body',
      cookieJar: 'cookie jars are not implemented; set the Cookie header yourself',
      url: 'the http.url template tag is not implemented; set tags: { name } on the request',
    },
  },
  'k6/metrics': { names: ['Counter', 'Gauge', 'Rate', 'Trend'] },
  'k6/execution': { names: ['vu', 'scenario', 'instance', 'test'] },
  'k6/timers': { names: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] },
  'k6/browser': { names: ['browser'] },
};

/** Module objects by specifier, as the bundled script reaches them (k6/browser is added per run). */
export function moduleObjects(browser?: unknown): Record<string, Record<string, unknown>> {
  const k6 = { check: core.check, group: core.group, fail: core.fail };
  return {
    k6: { ...k6, default: k6 },
    'k6/http': { ...http, default: http },
    'k6/metrics': { ...metrics, default: { ...metrics } },
    'k6/execution': { ...execution, default: execution },
    'k6/timers': { ...timers, default: { ...timers } },
    'k6/browser': { browser, default: { browser } },
  };
}
