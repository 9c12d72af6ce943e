import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../../config/index.js';
import { AUDIT_EXIT_CODES, AuditError, checkLoopbackUrl, formatBudgetTable, newAuditTestId, runAudit, type AuditPreset } from '../../audit/index.js';
import { gitSha } from '../../k6/index.js';
import { configOption, findStoreUrl, parsePositive, stateDirOption, nativeComponentUrl } from '../options.js';

interface AuditCliOptions {
  config: string;
  stateDir: string;
  runs?: number;
  preset: AuditPreset;
  timeout: number;
  outDir?: string;
  store: boolean;
  storeUrl?: string;
  branch: string;
  testid?: string;
}

/** The native stack's reference front end, else the app's default port. */
function defaultUrl(stateDir: string): string {
  const app = nativeComponentUrl(stateDir, 'app');
  return app ? `${app}/` : 'http://127.0.0.1:8080/';
}

/** perfstack audit [url]: Lighthouse on a loopback page, judged by config.frontend's budgets. */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('Audit a loopback page with Lighthouse on Chromium (FCP, LCP, TBT, CLS, Speed Index, JavaScript bytes, score), check the front-end budgets and store the run for compare/history')
    .argument('[url]', 'the page (loopback only; default: the native stack’s reference front end, else http://127.0.0.1:8080/)')
    .addOption(configOption())
    .addOption(stateDirOption())
    .addOption(new Option('--runs <n>', 'Lighthouse runs; the median of each metric counts (default: frontend.audit.runs)').argParser(parsePositive('--runs')))
    .addOption(new Option('--preset <preset>', 'desktop: no throttling; mobile: Lighthouse’s simulated slow 4G phone').choices(['desktop', 'mobile']).default('desktop'))
    .addOption(new Option('--timeout <seconds>', 'how long the page may take to answer and load').default(30).argParser(parsePositive('--timeout')))
    .addOption(new Option('--out-dir <dir>', 'where lighthouse.html, lighthouse.json and audit.json go (default: <state-dir>/audits/<testid>)'))
    .addOption(new Option('--testid <id>', 'id of the stored run (default: <UTC time>-lighthouse-<random>)'))
    .option('--no-store', 'do not store the run in the baseline store')
    .addOption(new Option('--store-url <url>', 'PostgreSQL URL of the baseline store (default: $PERFSTACK_STORE_URL, $DATABASE_URL, or the native stack’s database)'))
    .addOption(new Option('--branch <branch>', 'git branch the run is stored under').env('PERFSTACK_GIT_BRANCH').default('main'))
    .addHelpText(
      'after',
      `\nChromium: CHROME_PATH, else /usr/bin/chromium. Budgets: config.frontend (fcpSeconds, lcpSeconds, cls,
javascriptBytes) and config.frontend.audit (performanceScoreMin, tbtSeconds, speedIndexSeconds, runs).

Exit status: ${AUDIT_EXIT_CODES.ok} every budget held; ${AUDIT_EXIT_CODES.budgetsBroken} a budget was broken (the table says which);
${AUDIT_EXIT_CODES.invalidInput} a bad flag or a URL that is not on loopback; ${AUDIT_EXIT_CODES.chromiumMissing} Chromium missing or did not start;
${AUDIT_EXIT_CODES.pageDidNotLoad} the page never loaded (no answer, an error status, or no paint within --timeout); ${AUDIT_EXIT_CODES.lighthouseFailed} Lighthouse failed otherwise.`,
    )
    .action(async (given: string | undefined, options: AuditCliOptions) => {
      const url = given ?? defaultUrl(options.stateDir);
      try {
        checkLoopbackUrl(url);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
      const config = await loadConfig(options.config);
      const testid = options.testid ?? newAuditTestId();
      const outputDir = options.outDir ?? join(options.stateDir, 'audits', testid);
      const storeUrl = options.store ? findStoreUrl(options.storeUrl, options.stateDir) : undefined;
      let result;
      try {
        result = await runAudit({
          url,
          config,
          testid,
          outputDir,
          preset: options.preset,
          timeoutMs: options.timeout * 1000,
          branch: options.branch,
          gitSha: gitSha(),
          log: (line) => console.log(line),
          ...(options.runs === undefined ? {} : { runs: options.runs }),
          ...(storeUrl ? { storeUrl } : {}),
        });
      } catch (error) {
        if (error instanceof AuditError) {
          console.error(`perfstack audit: ${error.message}`);
          process.exitCode = error.exitCode;
          return;
        }
        throw error;
      }
      console.log('');
      console.log(`${result.audit.url} (${result.audit.preset}, Lighthouse ${result.audit.lighthouseVersion}, median of ${result.audit.runs.length} runs)`);
      console.log(formatBudgetTable(result.budgets));
      console.log('');
      console.log(`testid   ${result.testid} (scenario ${result.scenario})`);
      console.log(`report   ${result.files.html}`);
      if (!options.store) console.log('store    not stored (--no-store)');
      else console.log(result.stored.ok ? `store    stored in the baseline store (branch ${options.branch}); compare it with: perfstack compare ${result.testid}` : `store    not stored: ${result.stored.reason}`);
      const broken = result.budgets.filter((b) => !b.passed);
      if (broken.length > 0) {
        console.error(`perfstack audit: ${broken.length} budget${broken.length === 1 ? '' : 's'} broken: ${broken.map((b) => b.field).join(', ')}`);
        process.exitCode = AUDIT_EXIT_CODES.budgetsBroken;
      }
    });
}
