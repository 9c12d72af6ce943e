// Builds the publishable packages (npm run build:packages): for each package, removes its dist/
// and compiles it with tsc -p packages/<name>/tsconfig.json to ESM JavaScript plus .d.ts.
// The sources stay in their rooms (exporters/, metrics/); each tsconfig compiles its entry point
// and whatever it imports, with the repository as rootDir, so relative imports keep working.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const PACKAGES = ['pg-instrumentation', 'pg-stats-exporter'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

for (const name of PACKAGES) {
  const dir = fileURLToPath(new URL(`./${name}/`, import.meta.url));
  rmSync(`${dir}dist`, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', `${dir}tsconfig.json`], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build:packages: tsc failed for packages/${name} (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
  console.log(`build:packages: packages/${name}/dist built`);
}
