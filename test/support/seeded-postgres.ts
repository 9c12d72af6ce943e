// A throwaway PostgreSQL holding the reference service's schema and its small data set: what the
// service, engine, store, profiler and audit tests start from. The server is stopped again when
// the schema or the data cannot be written, so a failed set-up leaves no server behind.

import { migrate, seed } from '../../app/index.js';
import { startPostgres, type TestPostgres } from './postgres.js';

export async function startSeededPostgres(): Promise<TestPostgres> {
  const postgres = await startPostgres();
  try {
    await migrate(postgres.url);
    await seed(postgres.url, 'small');
    return postgres;
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}
