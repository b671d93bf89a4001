import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { runStoppedChild } from '../../helpers/stopped-child.js';

const CHILD = join(repoRoot(), 'dist', 'test', 'fixtures', 'pool', 'paused-pool.js');

/**
 * Run the child pool with `steps` turns of 50 ms under `budgetMs`; stop the whole process (SIGSTOP,
 * as a VM pause or a laptop sleep does) for `pauseMs` once the plugin runs; resolve with its output.
 */
function runPaused(steps: number, budgetMs: number, pauseMs: number) {
  return runStoppedChild<{ reply: unknown; pauses: number }>(
    CHILD,
    [String(steps), String(budgetMs)],
    'running',
    pauseMs,
  );
}

test('a plugin whose process was stopped mid-task is not timed out for the time it was stopped', async (t) => {
  // 10 turns of 50 ms need about 0.5 s of running time, well within the 2.5 s budget; the 4 s
  // stop begins after about two turns, so most of the work happens after the process continues
  const { reply, pauses } = await runPaused(10, 2_500, 4_000);
  t.like(reply, { ok: true });
  t.is(pauses, 1, 'the pause was noticed and logged once');
});
