/**
 * The built CLI run as a real child process, for the tests that need its exit code and output as an
 * operator sees them (the in-process commands are tested through cli-harness.ts instead).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/repo-root.js';

/** The built CLI entry point (dist/sidecar/cli/main.js). */
export const CLI = join(repoRoot(), 'dist', 'sidecar', 'cli', 'main.js');

/** What a child run of the CLI left: its exit code (null when killed) and its whole stdout and stderr. */
export interface ChildRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Run the built CLI with `args` in `cwd` with exactly `env`, collecting its output. Asynchronous, so
 * a connector the test started in this process keeps answering while the child runs.
 */
export function runBuiltCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<ChildRun> {
  return new Promise<ChildRun>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
