/**
 * The seam that keeps a refused thread from ending the process (core/pool/thread-refusals.ts)
 * rests on how piscina starts its workers: it reads `Worker` from `node:worker_threads` (as
 * CommonJS) at each start, on its own `worker.js`. Were that to change in an upgrade, refusals
 * would end the process again, silently: these tests fail first. The refusal itself is
 * test/core/pool/thread-limit (a real thread limit).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import test from 'ava';
import { Piscina } from 'piscina';
import {
  guardWorkerStarts,
  onPiscinaThread,
  PISCINA_WORKER_FILE,
  RefusedWorker,
  startedThroughGuard,
} from '../../../core/pool/thread-refusals.js';
import { tempDir } from '../../helpers/temp-dir.js';

const require = createRequire(import.meta.url);

test('the piscina the seam was checked against', (t) => {
  // an upgrade: re-read piscina's _addNewWorker and WorkerInfo (dist/index.js, dist/worker_pool),
  // and its workerFailsDuringBootstrap (core/pool/pool-renewal.ts), then move this pin
  t.is(Piscina.version, '5.3.2', 'piscina changed: recheck core/pool/thread-refusals.ts and pool-renewal.ts');
  t.true(existsSync(PISCINA_WORKER_FILE));
});

test('piscina starts its workers through the guard, on its own worker file', async (t) => {
  guardWorkerStarts();
  const file = join(tempDir(t), 'task.cjs');
  writeFileSync(file, 'module.exports = () => 1;');
  const pool = new Piscina({ filename: file, minThreads: 1, maxThreads: 1 });
  t.teardown(() => pool.destroy());
  t.is(await pool.run(null), 1);
  t.is(pool.threads.length, 1);
  t.true(pool.threads.every((thread) => startedThroughGuard(thread)));
});

test('a thread listener that throws changes nothing of the start: the pool gets its worker', async (t) => {
  guardWorkerStarts();
  const seen: number[] = [];
  const undoThrow = onPiscinaThread(() => {
    throw new Error('a listener failed');
  });
  const undoSee = onPiscinaThread((thread) => seen.push(thread.threadId));
  t.teardown(() => {
    undoThrow();
    undoSee();
  });
  const file = join(tempDir(t), 'task.cjs');
  writeFileSync(file, 'module.exports = () => 2;');
  // was: the throw came out of piscina's constructor, its thread started and owned by nobody
  const pool = new Piscina({ filename: file, minThreads: 1, maxThreads: 1 });
  t.teardown(() => pool.destroy());
  t.is(await pool.run(null), 2);
  t.deepEqual(seen, [pool.threads[0]?.threadId], 'the listeners after it are still called');
});

test('other starts are the original: their errors are thrown as before', (t) => {
  guardWorkerStarts();
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  t.throws(() => new Worker('relative.js'), { code: 'ERR_WORKER_PATH' });
  t.throws(() => new Worker('1', { eval: true, env: 5 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a refused worker fails as a worker does: its error, then its exit; a terminated one exits only', async (t) => {
  const refusal = Object.assign(new Error('EAGAIN'), { code: 'ERR_WORKER_INIT_FAILED' });
  const refused = new RefusedWorker(refusal);
  const events: unknown[] = [];
  refused.on('error', (err) => events.push(err));
  const exited = new Promise((resolve) => refused.on('exit', resolve));
  t.is(await exited, 1);
  t.deepEqual(events, [refusal]);
  // negative as no running thread's, below an ended thread's -1, and its own (ready-dispatch.ts)
  t.true(refused.threadId < -1);
  const ended = new RefusedWorker(refusal);
  t.true(ended.threadId < -1);
  t.not(ended.threadId, refused.threadId);
  ended.on('error', () => t.fail('a terminated refused worker reported an error'));
  const endedExit = new Promise((resolve) => ended.on('exit', resolve));
  t.is(await ended.terminate(), 1);
  t.is(await endedExit, 1);
});
