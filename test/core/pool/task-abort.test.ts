import { join } from 'node:path';
import test from 'ava';
import { Piscina } from 'piscina';
import { TaskAbort } from '../../../core/pool/task-abort.js';
import { repoRoot } from '../../helpers/repo-root.js';

test('abort calls the listener once, then is a no-op', (t) => {
  const abort = new TaskAbort();
  let calls = 0;
  abort.once('abort', () => calls++);
  t.false(abort.aborted);
  abort.abort();
  abort.abort();
  t.true(abort.aborted);
  t.is(calls, 1);
});

test('a removed listener is not called (off and removeListener)', (t) => {
  for (const remove of ['off', 'removeListener'] as const) {
    const abort = new TaskAbort();
    let calls = 0;
    const listener = () => calls++;
    abort.once('abort', listener);
    abort[remove]('abort', listener);
    abort.abort();
    t.is(calls, 0, remove);
  }
});

test('removing another listener leaves the registered one', (t) => {
  const abort = new TaskAbort();
  let calls = 0;
  abort.once('abort', () => calls++);
  abort.off('abort', () => {});
  abort.abort();
  t.is(calls, 1);
});

// the handle is piscina's EventEmitter form of a signal: a real pool aborts a running task with it
test('piscina aborts a running task through a TaskAbort, and rejects one aborted before it ran', async (t) => {
  // a file of the repository: a replacement worker may still load it after destroy() resolved
  const filename = join(repoRoot(), 'dist', 'test', 'fixtures', 'pool', 'hang-task.js');
  const pool = new Piscina({
    filename,
    minThreads: 1,
    maxThreads: 1,
    atomics: 'disabled',
  });
  t.teardown(() => pool.destroy());
  const running = new TaskAbort();
  const task = pool.run({}, { signal: running });
  setTimeout(() => running.abort(), 100);
  await t.throwsAsync(task, { name: 'AbortError' });
  const early = new TaskAbort();
  early.abort();
  await t.throwsAsync(pool.run({}, { signal: early }), { name: 'AbortError' });
});
