// @perfstack/pg-instrumentation: the pg-pool instrumentation and the express RED middleware,
// built from exporters/pg-pool and exporters/http (the sources stay in their rooms; see
// packages/build.js). Subpaths: "@perfstack/pg-instrumentation/pg-pool" and ".../http".
export * from '../../exporters/pg-pool/index.js';
export * from '../../exporters/http/index.js';
