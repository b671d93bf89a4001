/**
 * The main thread's side of the store gate (core/store/store-gate.ts) on real worker threads: a
 * worker's terminate() waits for its store call to come out, and an end of its own inside a call
 * frees its slot at once for the next worker.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { GATE_WORDS, GateSlot } from '../../../core/store/store-calls.js';
import { storeGate } from '../../../core/store/store-gate.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';

const WORKER = join(repoRoot(), 'dist', 'test', 'fixtures', 'pool', 'gate-worker.js');
const late: number[] = [];
const gate = storeGate((threadId) => late.push(threadId));

/** A gate worker holding its call `holdMs`; resolves once it is inside, with its `done` word. */
async function inside(holdMs: number, exitInside = false) {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER, { workerData: { gate, done: done.buffer, holdMs, exitInside } });
  const [message] = (await once(worker, 'message')) as [string];
  return { worker, done, message, id: worker.threadId };
}

test.serial('terminate() of a worker inside a store call ends it only once the call is over', async (t) => {
  const { worker, done, message } = await inside(300);
  t.is(message, 'inside');
  const exited = once(worker, 'exit');
  await worker.terminate();
  await exited;
  // was: ended inside the call (the mark never made): a SQLite call failing then aborted the process
  t.is(Atomics.load(done, 0), 1, 'the call ran to its end');
  t.deepEqual(late, []);
});

test.serial(
  'a worker ending itself inside a store call frees its slot: the end waiting for it is over, the next worker finds its gate open',
  async (t) => {
    const { worker, id } = await inside(200, true);
    const ended = worker.terminate();
    await once(worker, 'exit');
    await ended;
    t.deepEqual(late, [], 'no end waited out its limit');
    const words = new Int32Array(gate);
    t.false(
      Array.from({ length: words.length / GATE_WORDS }, (_, i) => words[i * GATE_WORDS]).includes(id),
      'its slot was freed',
    );
    const next = GateSlot.claim(gate, 999_999);
    t.true(next?.enter(), 'a slot claimed next is open');
    next?.leave();
    words[words.indexOf(999_999)] = 0;
  },
);

test('a worker claiming its slot while the process exits finds its gate closed: no call of it starts', async (t) => {
  const dir = tempDir(t);
  const child = join(repoRoot(), 'dist', 'test', 'fixtures', 'pool', 'late-claim-exit.js');
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    execFile(process.execPath, [child, dir], (failure, stdout) => {
      resolve({ code: failure ? ((failure as { code?: number }).code ?? null) : 0, out: stdout });
    });
  });
  t.deepEqual({ code, out }, { code: 0, out: 'exiting\n' });
  // was: the claim opened the slot the exit listener had closed, and the call ran as the thread ended
  t.false(existsSync(join(dir, 'marker')), 'a call of the late worker ran');
});
