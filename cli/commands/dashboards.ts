import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_VIEWER_PORT, provisionedDatasources, snapshotDashboards, startViewer, type Viewer } from '../../viewer/index.js';
import { hostOption, parsePort, stateDirOption, untilSignal, nativeComponentUrl } from '../options.js';

/** Where the generated dashboards and datasources are (what Grafana provisions). */
export const DASHBOARDS_FOLDER = 'provisioning/grafana/dashboards';
export const DATASOURCES_FOLDER = 'provisioning/grafana/datasources';

/** --prometheus-url, else the native stack's Prometheus (its stack.json), else 127.0.0.1:9090. */
export function findPrometheusUrl(given: string | undefined, stateDir: string): string {
  return given || (nativeComponentUrl(resolve(stateDir), 'prometheus') ?? 'http://127.0.0.1:9090');
}

const prometheusOption = () =>
  new Option('--prometheus-url <url>', "Prometheus to query (default: the native stack's, else http://127.0.0.1:9090)").env('PERFSTACK_PROMETHEUS_URL');

interface ServeOptions {
  port: number;
  host: string;
  prometheusUrl?: string;
  stateDir: string;
  dashboards: string;
  datasources: string;
}

async function viewerFor(options: Omit<ServeOptions, 'port' | 'host'> & { port?: number; host?: string; fallback?: boolean; log?: (line: string) => void }): Promise<Viewer> {
  const prometheusUrl = findPrometheusUrl(options.prometheusUrl, options.stateDir);
  return startViewer({
    dashboardsDir: resolve(options.dashboards),
    datasources: provisionedDatasources(resolve(options.datasources), prometheusUrl),
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    fallbackToFreePort: options.fallback ?? false,
    log: options.log,
  });
}

/** dashboards serve and dashboards snapshot: the generated dashboards without Grafana. */
export function registerDashboardCommands(program: Command): void {
  const dashboards = program.command('dashboards').description('See the generated Grafana dashboards without Grafana: a local viewer, and PNG snapshots');

  dashboards
    .command('serve')
    .description('Serve a page on loopback that lists the generated dashboards and draws them from live Prometheus (read-only proxy to its query API)')
    .addOption(new Option('--port <port>', `loopback port (taken: a free one is used and printed; 0 picks a free one)`).default(DEFAULT_VIEWER_PORT).argParser(parsePort('--port')))
    .addOption(hostOption())
    .addOption(prometheusOption())
    .addOption(stateDirOption())
    .option('--dashboards <dir>', 'folder of dashboard JSON (subfolders are folders)', DASHBOARDS_FOLDER)
    .option('--datasources <dir>', 'Grafana datasource provisioning (uids, names and scrape intervals; the URL is --prometheus-url)', DATASOURCES_FOLDER)
    .action(async (options: ServeOptions) => {
      const viewer = await viewerFor({ ...options, fallback: true });
      console.log(`perfstack dashboards: ${viewer.url}`);
      const signal = await untilSignal();
      console.log(`viewer: ${signal}, stopping`);
      await viewer.stop();
    });

  dashboards
    .command('snapshot')
    .description('Render each dashboard, or chosen panels, to PNG with headless Chromium, from live Prometheus')
    .option('--out <dir>', 'where the PNGs go', 'dashboard-snapshots')
    .option('--dashboard <uid...>', 'dashboard uids (default: every dashboard)')
    .option('--panel <id...>', 'panel ids, or uid:id (default: the whole dashboard)')
    .option('--from <time>', 'start of the time range (now-1h, epoch ms, ISO date; default: the dashboard\'s)')
    .option('--to <time>', 'end of the time range (default: the dashboard\'s)')
    .option('--viewer-url <url>', 'a running viewer (default: one is started for the snapshot and stopped after)')
    .addOption(new Option('--width <px>', 'page width').default(1600).argParser(parsePort('--width')))
    .addOption(prometheusOption())
    .addOption(stateDirOption())
    .option('--dashboards <dir>', 'folder of dashboard JSON', DASHBOARDS_FOLDER)
    .option('--datasources <dir>', 'Grafana datasource provisioning', DATASOURCES_FOLDER)
    .action(
      async (options: ServeOptions & { out: string; dashboard?: string[]; panel?: string[]; from?: string; to?: string; viewerUrl?: string; width: number }) => {
        const viewer = options.viewerUrl ? undefined : await viewerFor({ ...options, log: () => undefined });
        try {
          const files = await snapshotDashboards({
            viewerUrl: options.viewerUrl ?? viewer!.url,
            outDir: options.out,
            dashboards: options.dashboard,
            panels: options.panel,
            from: options.from,
            to: options.to,
            width: options.width,
          });
          const problems = files.flatMap((f) => f.problems);
          console.log(`${files.length} PNG(s) in ${options.out}${problems.length ? `; ${problems.length} panel(s) reported problems (see above)` : ''}`);
        } finally {
          await viewer?.stop();
        }
      },
    );
}
