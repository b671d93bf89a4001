/**
 * The one listener of piscina's ready message per thread (core/pool/entry-loads.ts), which the
 * balancer (ready-dispatch.ts) and the watch of unready exits (unready-exits.ts) both read: it sees
 * a new pool's first thread load its entry, which piscina counted ready before.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Piscina } from 'piscina';
import { hasLoaded, whenLoaded } from '../../../core/pool/entry-loads.js';
import { guardWorkerStarts } from '../../../core/pool/thread-refusals.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';

test("a new pool's first thread: not loaded as piscina counts it ready, then loaded once, its listeners called once", async (t) => {
  guardWorkerStarts();
  const file = join(tempDir(t), 'task.cjs');
  writeFileSync(file, 'module.exports = () => 3;');
  const pool = new Piscina({ filename: file, minThreads: 1, maxThreads: 1 });
  t.teardown(() => pool.destroy());
  const [thread] = pool.threads;
  if (!thread) return t.fail('no first thread');
  t.false(hasLoaded(thread));
  let calls = 0;
  whenLoaded(thread, () => calls++);
  const undone = whenLoaded(thread, () => t.fail('an undone listener was called'));
  undone();
  t.is(await pool.run(null), 3);
  await until(() => hasLoaded(thread), 10_000, 'the entry loaded');
  t.is(calls, 1);
  // once loaded, a listener is called at once
  whenLoaded(thread, () => calls++);
  t.is(calls, 2);
});
