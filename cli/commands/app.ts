import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { checkRedisUrl, faultFromEnv, migrate, seed, startApp, SEED_SIZES, type SeedSize } from '../../app/index.js';
import { configOption, databaseUrlOption, hostOption, parsePort, parsePositive, requireDatabaseUrl, untilSignal } from '../options.js';
import { openInspector } from '../../profiler/index.js';

const seedSizeOption = () => new Option('--seed <size>', 'seed the database first').choices(Object.keys(SEED_SIZES));

/** app, migrate and seed: the reference service and its database. */
export function registerAppCommands(program: Command): void {
  program
    .command('app')
    .description('Run the reference service (express + pg) that k6 loads; stops cleanly on SIGTERM, draining in-flight requests')
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(hostOption())
    .addOption(new Option('--port <port>', 'port to bind (0 picks a free one)').default(8080).argParser(parsePort('--port')))
    .addOption(new Option('--pool-max <n>', 'largest number of database connections').default(10).argParser(parsePositive('--pool-max')))
    .addOption(new Option('--admin-token <token>', 'enables /admin/fault behind this bearer token (16+ characters)').env('PERFSTACK_ADMIN_TOKEN'))
    .option('--no-compression', 'send every response uncompressed (default: config.compression.enabled)')
    .addOption(
      new Option('--redis-url <url>', 'redis:// of the read cache for search results and entities (without it every read goes to PostgreSQL)')
        .env('PERFSTACK_REDIS_URL')
        .argParser((value: string) => {
          checkRedisUrl(value, '--redis-url');
          return value;
        }),
    )
    .option('--no-cache', 'keep Redis out of the read path even with --redis-url (to compare cached and uncached runs)')
    .addOption(new Option('--inspect-port <port>', 'open the Node.js inspector on 127.0.0.1:<port> (0 picks one) for `perfstack profile`; off by default').argParser(parsePort('--inspect-port')))
    .option('--migrate', 'apply pending migrations before starting')
    .addOption(seedSizeOption())
    .action(async (options: { config: string; databaseUrl?: string; host: string; port: number; poolMax: number; adminToken?: string; migrate?: boolean; seed?: SeedSize; compression: boolean; redisUrl?: string; cache: boolean; inspectPort?: number }) => {
      const config = await loadConfig(options.config);
      const databaseUrl = requireDatabaseUrl(options.databaseUrl);
      if (options.migrate || options.seed) await migrate(databaseUrl);
      if (options.seed) await seed(databaseUrl, options.seed, { progress: process.stdout.isTTY });
      const app = await startApp({
        databaseUrl,
        config,
        host: options.host,
        port: options.port,
        poolMax: options.poolMax,
        adminToken: options.adminToken,
        fault: faultFromEnv(process.env),
        // Commander sets compression=true unless --no-compression: then the config decides.
        ...(options.compression ? {} : { compression: false }),
        redisUrl: options.redisUrl,
        cache: options.cache && options.redisUrl !== undefined,
      });
      console.log(`perfstack app listening on ${app.url} (metrics at ${app.url}/metrics)`);
      if (options.inspectPort !== undefined) console.log(`inspector listening on ${openInspector(options.inspectPort)} (loopback only; perfstack profile --inspect <that URL>)`);
      const signal = await untilSignal();
      console.log(`${signal}: draining in-flight requests, then closing the pool`);
      await app.stop();
    });

  program
    .command('migrate')
    .description('Apply the reference service’s pending schema migrations')
    .addOption(databaseUrlOption())
    .action(async (options: { databaseUrl?: string }) => {
      const result = await migrate(requireDatabaseUrl(options.databaseUrl));
      console.log(`migrations: ${result.applied.length} applied, ${result.skipped.length} already present`);
    });

  program
    .command('seed')
    .description('Load the deterministic demo dataset: small (1k), medium (100k) or large (1M entities)')
    .addOption(databaseUrlOption())
    .argument('<size>', `one of ${Object.keys(SEED_SIZES).join(', ')}`)
    .action(async (size: string, options: { databaseUrl?: string }) => {
      if (!(size in SEED_SIZES)) throw new Error(`seed: size must be one of ${Object.keys(SEED_SIZES).join(', ')}, got "${size}"`);
      const databaseUrl = requireDatabaseUrl(options.databaseUrl);
      await migrate(databaseUrl);
      const result = await seed(databaseUrl, size as SeedSize, { progress: process.stdout.isTTY });
      console.log(`seeded ${result.rows} entities (${result.size}) in ${result.seconds.toFixed(1)} s`);
    });
}
