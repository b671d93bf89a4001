/**
 * The start-up check across a freeze (SIGSTOP, a paused VM; here a blocked main thread, which
 * libuv resumes the same way: expired timers before the input that came meanwhile).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { checkInThread } from '../../../core/plugin-host/plugin-check-thread.js';
import { freezeIdle } from '../../helpers/block-thread.js';
import { slowImportModule } from '../../helpers/plugin-module.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';

test('a module that loaded while the process was frozen is not blamed for the frozen time', async (t) => {
  const marker = join(tempDir(t), 'importing');
  // its import takes 200 ms, well inside the 500 ms limit
  const file = slowImportModule(t, marker);
  const check = checkInThread([{ name: 'slow-import', url: pathToFileURL(file).href, options: {} }], {
    loadTimeoutMs: 500,
  });
  // the check thread is importing (its limit armed); then the process stops past the limit while
  // the import ends and its verdict is posted
  await until(() => existsSync(marker));
  await freezeIdle(PAUSE_DETECT_MS + 500);
  const [verdict] = await check;
  // was: "the module did not finish loading within 500 ms (a top-level loop…?)"
  t.true(verdict?.ok, JSON.stringify(verdict));
});
