// The reference service ("app"): the API that k6 loads and the dashboards show, with its schema
// migrations and deterministic data seeding.
export { startApp, SERVICE_NAME, DRAIN_TIMEOUT_MS } from './server.js';
export type { StartAppOptions, RunningApp } from './server.js';
export { migrate, loadMigrations, MIGRATIONS_DIR } from './migrate.js';
export type { Migration, MigrateResult } from './migrate.js';
export { seed, generateEntities, createRandom, SEED_SIZES, DEMO_USER, ENTITY_CATEGORIES } from './seed.js';
export type { SeedSize, SeedOptions, SeedResult, SeedEntity } from './seed.js';
export { faultFromEnv, parseFaultSettings, FaultConfigError, FAULT_ENV, NO_FAULT, MAX_FAULT_LATENCY_MS } from './fault.js';
export type { FaultSettings, FaultSwitch } from './fault.js';
export { POOL_NAME, CONNECTION_TIMEOUT_MS, isConnectionError } from './database.js';
export { JSON_LIMIT_BYTES, MAX_FILE_BYTES, MAX_BULK_ROWS, MAX_RESOLVE_CANDIDATES, SESSION_TTL_SECONDS } from './context.js';
export { hashPassword, verifyPassword } from './password.js';
export { checkRedisUrl, redactRedisUrl, CACHE_KEY_PREFIX } from './cache/index.js';
export type { CacheState, CacheStatus } from './cache/index.js';
