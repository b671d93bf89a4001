/**
 * The checkpointer's stop across a freeze: the real process (a child) stopped (SIGSTOP) and
 * continued (SIGCONT) while its checkpoint thread is still at its last checkpoint. The thread was
 * stopped too, so its work is still to do at the resume; the stop's limit must not charge it the
 * pause.
 */
import { join } from 'node:path';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { runStoppedChild } from '../../helpers/stopped-child.js';

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
