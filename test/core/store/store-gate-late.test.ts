/**
 * A store call still inside past the gate's limit (core/store/store-gate.ts): the report names
 * the kind of thread it was (a checkpoint thread is not a plugin worker) and what follows (a
 * terminate waits on for the call, the exit ends the thread), and a listener that throws changes
 * nothing of the end (the worker is still ended, every other gate still closed).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { GATE_LEAVE_LIMIT_MS, storeGate } from '../../../core/store/store-gate.js';
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

test('a late listener that throws: terminate() still ends the worker, and resolves', async (t) => {
  const heard: [number, string, string][] = [];
  const gate = storeGate((threadId, _waitedMs, kind, end) => {
    heard.push([threadId, kind, end]);
    throw new Error('the log destination failed');
  });
  const done = new Int32Array(new SharedArrayBuffer(4));
  // a call past the gate's 5 s limit: held by the disk
  const worker = new Worker(join(FIXTURES, 'pool', 'gate-worker.js'), {
    workerData: { gate, done: done.buffer, holdMs: GATE_LEAVE_LIMIT_MS + 1_000 },
  });
  // on a failure the worker outlives the test: not this process's to keep up
  worker.unref();
  await once(worker, 'message');
  // read now: it is -1 once the thread has exited
  const id = worker.threadId;
  const exited = once(worker, 'exit');
  // was: rejected with the listener's error, and the worker never ended
  const ended = await worker.terminate().then(
    () => true,
    (err: Error) => err.message,
  );
  t.is(ended, true);
  if (ended !== true) return;
  const [code] = (await exited) as [number];
  t.is(code, 1, 'terminated');
  // was 0: ended at the limit, inside its call
  t.is(Atomics.load(done, 0), 1, 'ended once its call was over');
  t.deepEqual(heard, [[id, 'plugin worker', 'waits']]);
});

test("a terminate waits on for a SQLite call past the limit: its failure then is the thread's, not an abort", async (t) => {
  const { code, out, err } = await runFile(join(FIXTURES, 'store', 'late-call-terminate.js'), [tempDir(t)]);
  // was: terminated at the limit inside the call, whose SQLITE_BUSY a second later was thrown into
  // the ending thread: FATAL ERROR, SIGABRT, the whole process gone (134)
  t.is(code, 0, err);
  t.deepEqual(JSON.parse(out.trim()), { heard: [['plugin worker', 'waits']], done: 2, code: 1 });
});

test('a late listener that throws at the exit: every gate is still closed and told of, the exit is clean', async (t) => {
  const { code, out, err } = await runFile(join(FIXTURES, 'pool', 'throwing-late-exit.js'), []);
  // was: the throw left the gate's exit listener: the second gate never closed nor told of, and
  // the exit listeners after it never ran (nothing printed)
  t.is(code, 0, err);
  const { first, second, heard } = JSON.parse(out.trim()) as {
    first: number;
    second: number;
    heard: [number, string, string][];
  };
  // the exit ends both threads: their reports say so (a terminate's say it waits)
  t.deepEqual(heard, [
    [first, 'plugin worker', 'ends'],
    [second, 'checkpoint thread', 'ends'],
  ]);
});
