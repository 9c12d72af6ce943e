import { Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { generateAll } from '../generate.js';
import { findDrift, writeGeneratedFiles } from '../write-files.js';
import { filesAtRevision, filesFromGenerated, generatedPathsAtRevision, reviewSummary, writePanelImages } from '../review-summary.js';
import { checkGenerated } from '../check.js';
import { configOption, stateDirOption } from '../options.js';
import { findPrometheusUrl } from './dashboards.js';
import { KUBERNETES_DIR, isKubernetesPath } from '../../kubernetes/index.js';

/** generate, summary and check: the config-as-code commands. */
export function registerGenerateCommands(program: Command): void {
  program
    .command('generate')
    .description('Generate dashboards, Prometheus rules and tests, Alertmanager routing, Grafana provisioning, k6 thresholds and the Kubernetes objects from the config')
    .addOption(configOption())
    .option('--check', 'write nothing; exit 1 if any generated file is stale')
    .addOption(new Option('--target <target>', `what to generate: all, or kubernetes (only ${KUBERNETES_DIR}/)`).choices(['all', 'kubernetes']).default('all'))
    .action(async (options: { config: string; check?: boolean; target: 'all' | 'kubernetes' }) => {
      const config = await loadConfig(options.config);
      const kubernetesOnly = options.target === 'kubernetes';
      const files = kubernetesOnly ? generateAll(config).filter((file) => isKubernetesPath(file.path)) : generateAll(config);
      // With a target, only its folder's files can be orphans: the rest belong to other targets.
      const ownedFolders = kubernetesOnly ? [KUBERNETES_DIR] : undefined;
      if (options.check) {
        const drift = findDrift(process.cwd(), files, ownedFolders);
        const stale = [...drift.changed, ...drift.orphaned.map((path) => `${path} (no longer generated)`)];
        if (stale.length > 0) {
          console.error(`Stale generated files; run \`perfstack generate\` and commit:\n${stale.map((p) => `  ${p}`).join('\n')}`);
          process.exitCode = 1;
          return;
        }
        console.log(`All ${files.length} generated files are up to date.`);
        return;
      }
      const drift = writeGeneratedFiles(process.cwd(), files, ownedFolders);
      for (const path of drift.changed) console.log(`wrote   ${path}`);
      for (const path of drift.orphaned) console.log(`removed ${path}`);
      console.log(`${files.length} files generated, ${drift.changed.length} changed, ${drift.orphaned.length} removed.`);
    });

  program
    .command('summary')
    .description('Summarise in plain language what the config change does to the generated rules, dashboards, routing and k6 thresholds, against a git revision')
    .addOption(configOption())
    .option('--base <revision>', 'the git revision to compare with', 'HEAD')
    .option('--images <dir>', 'also write before/after PNGs of every panel the change touches (headless Chromium, live Prometheus) and DIR/README.md pairing them')
    .option('--prometheus-url <url>', "with --images: the Prometheus both sides are drawn from (default: the native stack's, else http://127.0.0.1:9090)")
    .option('--from <time>', 'with --images: start of the time range (now-1h, epoch ms, ISO date); the end is now', 'now-1h')
    .addOption(stateDirOption())
    .action(async (options: { config: string; base: string; images?: string; prometheusUrl?: string; from: string; stateDir: string }) => {
      const config = await loadConfig(options.config);
      const current = generateAll(config);
      const paths = [...new Set([...generatedPathsAtRevision(options.base), ...current.map((file) => file.path)])];
      const before = filesAtRevision(options.base, paths);
      const after = filesFromGenerated(current);
      console.log(reviewSummary(before, after));
      if (options.images) {
        const prometheusUrl = findPrometheusUrl(options.prometheusUrl, options.stateDir);
        await writePanelImages(before, after, { outDir: options.images, prometheusUrl, from: options.from, baseLabel: options.base, log: (line) => console.error(line) });
        console.error(`Before/after images and their Markdown: ${options.images}/README.md`);
      }
    });

  program
    .command('check')
    .description('Validate the generated files with promtool (config, rules, rule unit tests) and amtool (config)')
    .action(() => {
      if (!checkGenerated(process.cwd())) process.exitCode = 1;
    });
}
