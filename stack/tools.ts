import { spawnSync } from 'node:child_process';

export interface ToolResult {
  ok: boolean;
  status: number | null;
  output: string;
}

/** Runs a command-line tool to completion and returns its combined output. */
export function runTool(command: string, args: string[], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): ToolResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  if (result.error) {
    return { ok: false, status: null, output: `could not run ${command}: ${result.error.message}` };
  }
  return { ok: result.status === 0, status: result.status, output: `${result.stdout}${result.stderr}` };
}
