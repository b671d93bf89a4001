/**
 * The checkpointer's stop when the thread cannot end in time: held by a lock another connection
 * keeps, or still at work when the limit runs out. The stop is bounded and never terminates the
 * thread (a thread terminated inside a SQLite call that then fails aborted the whole process:
 * FATAL ERROR, SIGABRT, after the busy timeout); the process ends on its own and every
 * committed row is there, in a consistent file.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';

/** Rows the child commits before the thread starts. */
const ROWS = 1_000;

const CHILD = join(repoRoot(), 'dist', 'test', 'fixtures', 'store', 'blocked-checkpointer.js');
const EXITING = join(repoRoot(), 'dist', 'test', 'fixtures', 'store', 'exiting-checkpointer.js');

/** Run the child on `dir`; resolves with its exit and its JSON line. */
function runChild(dir: string, budgetMs: number) {
  return runFile(CHILD, [dir, String(budgetMs), String(ROWS)]);
}

/** Run the script `file` with `args`; resolves with its exit and its output. */
function runFile(file: string, args: readonly string[]) {
  return new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
    const child = execFile(process.execPath, [file, ...args], (err, stdout) => {
      const failed = err as (Error & { code?: number; signal?: string }) | null;
      resolve({ code: failed ? (failed.code ?? null) : 0, signal: failed?.signal ?? null, out: stdout });
    });
    child.stdin?.end();
  });
}

test('a checkpoint thread held by a lock another connection keeps: the stop is bounded, the process ends normally, no row is lost', async (t) => {
  const dir = tempDir(t);
  // stopped once its open has failed (within 20 ms of its start): a limit short of the old open's
  // 5 s wait, which the old stop terminated the thread in
  const { code, signal, out } = await runChild(dir, 3_000);
  // was: the stop terminated the thread in its busy wait on the lock; when the wait ended in
  // SQLITE_BUSY, better-sqlite3 threw into the ending thread and the process aborted (134)
  t.deepEqual({ code, signal }, { code: 0, signal: null });
  const { ended, codes } = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
    ended: boolean;
    codes: string[];
  };
  // its waits on a lock are short: it gave up at once, and said so once
  t.true(ended);
  t.deepEqual(codes, ['CORE_ERR_STORE_CHECKPOINT_FAILED']);
  const db = openDatabase(databasePath(dir));
  t.teardown(() => db.close());
  t.is(db.pragma('integrity_check', { simple: true }), 'ok');
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), ROWS);
});

test('a stop whose limit runs out first is reported once with its code; the thread is left to end, and its last checkpoint runs', async (t) => {
  const file = databasePath(tempDir(t));
  const db = openDatabase(file);
  t.teardown(() => db.close());
  db.exec('CREATE TABLE t (v NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 4_000; i++) insert.run('x'.repeat(4_000));
  })();
  const sink = createLogSink();
  const checkpointer = Checkpointer.start(file, sink.logger, new Metrics(), 600_000);
  // opened first: a thread stopped before its open leaves without it (checkpointer-early-stop)
  await sink.waitFor((line) => line.msg === 'checkpoint thread opened the store', 20_000);
  // no time at all: the thread has its whole last checkpoint still to do
  t.false(await checkpointer.stop(0));
  t.false(await checkpointer.stop(0), 'a second stop says the same');
  t.is(sink.withCode('CORE_ERR_STORE_CHECKPOINT_STOP_LATE').length, 1);
  // was: terminated before its last checkpoint (the file kept its few KiB, the WAL the rest)
  await until(() => statSync(file).size > 8 * 1024 * 1024, 20_000, 'the last checkpoint', 20);
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 4_000);
});

test.serial('the process exits cleanly while checkpoint threads wait on a lock', async (t) => {
  t.timeout(60_000);
  // each run: was aborted most times (FATAL ERROR, SIGABRT: the exit ended a thread in its busy
  // wait, whose failure better-sqlite3 then threw into the ending thread); three in a row
  for (let run = 0; run < 3; run++) {
    const { code, signal } = await runFile(EXITING, [tempDir(t), '4']);
    t.deepEqual({ code, signal }, { code: 0, signal: null }, `run ${run}`);
  }
});
