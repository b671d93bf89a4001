/**
 * A store call still inside past the gate's limit (core/store/store-gate.ts): the report names
 * the kind of thread it was (a checkpoint thread is not a plugin worker), and a listener that
 * throws changes nothing of the end (the worker is still ended, every other gate still closed).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import type { LogLine } from '../../helpers/log-sink.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';

const FIXTURES = join(repoRoot(), 'dist', 'test', 'fixtures');

/** Run the script `file` with `args`; resolves with its exit and its output. */
function runFile(file: string, args: readonly string[]) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [file, ...args], (failure, stdout, stderr) => {
      resolve({
        code: failure ? ((failure as { code?: number }).code ?? null) : 0,
        out: stdout,
        err: stderr,
      });
    });
  });
}

test('a checkpoint thread ended at the exit with a store call inside is reported as a checkpoint thread', async (t) => {
  const { code, out, err } = await runFile(join(FIXTURES, 'store', 'late-checkpoint-exit.js'), [tempDir(t)]);
  t.is(code, 0, err);
  const warnings = out
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LogLine);
  // was: 'plugin worker ended with a store call still running' (component plugin-pool)
  t.deepEqual(
    warnings.map((line) => [line.msg, line.component]),
    [['checkpoint thread ended with a store call still running', 'checkpointer']],
  );
  t.true(Number(warnings[0]?.waitedMs) >= 5_000);
});
