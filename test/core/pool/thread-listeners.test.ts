/**
 * Each plugin pool watches its own threads only. Every pool in a process saw every piscina thread
 * made in it (thread-refusals.ts `onPiscinaThread`) and kept its exit watch on the other pools'
 * threads too, inert there but never taken off: with ten pools open in one process (an embedding
 * host, or a test file's hosts) each new thread carried ten watches and Node printed "Possible
 * EventEmitter memory leak detected" on stderr (real pools, real worker threads).
 */
import type { Worker } from 'node:worker_threads';
import test from 'ava';
import { ECHO, echoThread, startFixtureHost } from '../plugin-host/fixture-host.js';

/** Start a host and return the worker threads made while it started and ran one task. */
async function hostThreads(t: Parameters<typeof startFixtureHost>[0]): Promise<Worker[]> {
  const made: Worker[] = [];
  const onWorker = (w: Worker) => made.push(w);
  process.on('worker', onWorker);
  try {
    const { host } = await startFixtureHost(t, [ECHO]);
    await echoThread(host);
  } finally {
    process.off('worker', onWorker);
  }
  return made.filter((w) => w.threadId !== -1);
}

test.serial("a second pool's thread carries no watch of the first pool", async (t) => {
  const first = await hostThreads(t);
  const second = await hostThreads(t);
  t.true(first.length > 0 && second.length > 0, 'each host made a thread');
  const count = (ws: Worker[], event: 'exit' | 'error') => ws.map((w) => w.listenerCount(event));
  // the same host, configured the same, idle: the same watchers on each of its threads
  t.deepEqual(count(second, 'exit'), count(first, 'exit'));
  t.deepEqual(count(second, 'error'), count(first, 'error'));
});

test.serial('ten pools open at once raise no listener-leak warning', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  for (let i = 0; i < 10; i++) await hostThreads(t);
  // a warning is emitted on a later tick
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(warnings, []);
});
