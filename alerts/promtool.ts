import { spawn } from 'node:child_process';

// Runs promtool on generated rule and test files; used by the rules tests and the stack checks.

export const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

export interface PromtoolResult {
  args: string[];
  code: number;
  output: string;
}

/** Runs `promtool <args>` in `cwd`, collecting stdout and stderr together. */
export function runPromtool(args: string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ args, code: code ?? 1, output }));
  });
}
