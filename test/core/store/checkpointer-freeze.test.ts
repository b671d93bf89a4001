/**
 * The checkpointer's stop across a freeze: the real process (a child) stopped (SIGSTOP) and
 * continued (SIGCONT) while its checkpoint thread is still at its last checkpoint. The thread was
 * stopped too, so its work is still to do at the resume; the stop's limit must not charge it the
 * pause.
 */
import { join } from 'node:path';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { startPauseMeter } from '../../../core/di/pause-meter.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { blockThread } from '../../helpers/block-thread.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { runStoppedChild } from '../../helpers/stopped-child.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** The stop's limit in the stall test, ms. */
const LIMIT_MS = 800;
/** The stall: past the pause threshold, so a deadline that regrants starts its limit again. */
const STALL_MS = PAUSE_DETECT_MS + 500;
/** When the thread may end: past the limit on the meter, well within the limit granted again. */
const RELEASE_AFTER_MS = 400;

const CHILD = join(repoRoot(), 'dist', 'test', 'fixtures', 'store', 'stopping-checkpointer.js');

test('a checkpoint thread stopped with the process is not terminated for the time it was stopped', async (t) => {
  // the thread needs well under the 1 s limit to start, checkpoint and end, but the process is
  // stopped (with it) past the limit
  const { ended, fileBytes } = await runStoppedChild<{ ended: boolean; fileBytes: number }>(
    CHILD,
    ['1000'],
    'stopping',
    1_000 + PAUSE_DETECT_MS + 500,
    true,
  );
  // was: the late timer ran first at the resume and terminated the thread before its checkpoint
  // (the file kept its few KiB, the WAL all the rest)
  t.true(fileBytes > 8 * 1024 * 1024, `database file ${fileBytes} bytes after the stop`);
  t.true(ended);
});

test('a stall past its limit on the drain meter ends the stop there: its time is not granted again', async (t) => {
  const dir = tempDir(t);
  const file = databasePath(dir);
  // a connection holding the file in exclusive mode: the thread's open waits (its 5 s busy
  // timeout) until it lets go, so the thread ends only after the release, whatever the machine
  const holder = openDatabase(file);
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.exec('CREATE TABLE t (v NOT NULL); INSERT INTO t (v) VALUES (1)');
  t.teardown(() => holder.close());
  const checkpointer = Checkpointer.start(file, createLogSink().logger, new Metrics(), 600_000);
  const meter = startPauseMeter();
  t.teardown(() => meter.stop());
  const stopped = checkpointer.stop(LIMIT_MS, meter);
  // a stall from just before the limit (a loaded machine: the meter leaves it out) ...
  await new Promise((resolve) => setTimeout(resolve, LIMIT_MS - 100));
  blockThread(STALL_MS);
  // ... and the thread could end some time after it, within the limit granted again
  setTimeout(() => holder.close(), RELEASE_AFTER_MS);
  // was: true (the late timer started the whole limit again at the resume, so the stop waited
  // past the drain's inbox_close step, which the stall and the limit on the meter had ended)
  t.false(await stopped, 'the thread was terminated at its limit on the meter');
});
