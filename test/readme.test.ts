import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const projectRoot = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(projectRoot, 'README.md'), 'utf8');
const ciScript = readFileSync(resolve(projectRoot, '.ci/run'), 'utf8');

/** The first command line inside the fenced block that follows a marker comment. */
function commandAfter(marker: string): string {
  const match = readme.match(new RegExp(`<!-- ${marker} -->\\s*\`\`\`sh\\n([^\\n]+)\\n\`\`\``));
  if (!match?.[1]) throw new Error(`README.md has no \`\`\`sh block after <!-- ${marker} -->`);
  return match[1].trim();
}

describe('README', () => {
  it('shows the test command that .ci/run runs, verbatim', () => {
    const testCommand = commandAfter('test-command');
    const ciLines = ciScript.split('\n').map((line) => line.trim());
    expect(ciLines).toContain(testCommand);
  });

  it('shows a main-job command whose npm scripts exist', () => {
    const mainCommand = commandAfter('main-command');
    const scripts = JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')).scripts as Record<string, string>;
    for (const [, script] of mainCommand.matchAll(/npm (?:run )?(\w[\w-]*)/g)) {
      if (script === 'ci' || script === 'install') continue;
      expect(scripts, `npm script "${script}"`).toHaveProperty(script!);
    }
  });
});
