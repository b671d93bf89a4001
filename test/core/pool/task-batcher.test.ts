/**
 * The task batcher's chunking, against a recording runner: a turn's chains travel together, are
 * spread over the threads only in chunks worth a message, never beyond the batch size, and each
 * caller gets its own reply in order; spare threads get a task only while one stalls.
 */
import test from 'ava';
import type { BatchItem } from '../../../core/pool/plugin-pool.js';
import {
  type BatcherThreads,
  type BatchRunner,
  MIN_SPREAD_CHUNK,
  TaskBatcher,
} from '../../../core/pool/task-batcher.js';
import type { TaskReply } from '../../../core/pool/task-protocol.js';
import { until } from '../../helpers/until.js';

/** Answers each item with its own budget (its index in the turn); records the chunk sizes. */
function recorder(): BatchRunner & { chunks: number[] } {
  const chunks: number[] = [];
  return {
    chunks,
    run: async (items: readonly BatchItem[]): Promise<TaskReply[]> => {
      chunks.push(items.length);
      return items.map((item) => ({ ok: true, value: item.budgets[0], ms: [] }) as TaskReply);
    },
  };
}

/** Two threads carrying the load, no spares. */
const TWO: BatcherThreads = { active: 2, max: 2, spareAfterMs: 1_000 };

/** A runner whose tasks answer only when the test says so; records the chunk sizes. */
function heldRunner(): BatchRunner & { chunks: number[]; answer(index: number): void } {
  const chunks: number[] = [];
  const answers: (() => void)[] = [];
  return {
    chunks,
    answer: (index) => answers[index]?.(),
    run: (items) =>
      new Promise((resolve) => {
        chunks.push(items.length);
        answers.push(() =>
          resolve(items.map((i) => ({ ok: true, value: i.budgets[0], ms: [] }) as TaskReply)),
        );
      }),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

const item = (n: number): BatchItem => ({
  task: { k: 'outbound', chain: [0], input: { action: { op: 'typing', chat_id: 'c' } } },
  budgets: [n],
});

async function turn(batcher: TaskBatcher, n: number): Promise<unknown[]> {
  const replies = await Promise.all(Array.from({ length: n }, (_, i) => batcher.submit(item(i))));
  return replies.map((r) => (r.ok ? r.value : r.error.code));
}

test('a small turn is one message even with several threads', async (t) => {
  const runner = recorder();
  const batcher = new TaskBatcher(runner, TWO);
  const n = MIN_SPREAD_CHUNK;
  t.deepEqual(
    await turn(batcher, n),
    Array.from({ length: n }, (_, i) => i),
  );
  t.deepEqual(runner.chunks, [n]);
  runner.chunks.length = 0;
  await turn(batcher, n + 4);
  t.deepEqual(runner.chunks, [n, 4], 'the rest of a small turn in a second message, not split evenly');
});

test('a burst is spread over the threads, at most the batch size per message', async (t) => {
  const runner = recorder();
  const batcher = new TaskBatcher(runner, TWO, 32);
  t.is((await turn(batcher, 40)).length, 40);
  t.deepEqual(runner.chunks, [20, 20]);
  runner.chunks.length = 0;
  const replies = await turn(batcher, 150);
  t.deepEqual(
    replies,
    Array.from({ length: 150 }, (_, i) => i),
    'each caller its own reply, in order',
  );
  t.true(runner.chunks.every((n) => n <= 32));
  t.is(
    runner.chunks.reduce((a, b) => a + b, 0),
    150,
  );
});

test('while every thread is busy with a task, chains gather and go together when one answers', async (t) => {
  const runner = heldRunner();
  const { chunks } = runner;
  const batcher = new TaskBatcher(runner, TWO);
  const turnOf = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => batcher.submit(item(from + i)));
  const first = turnOf(0, 1);
  await tick();
  const second = turnOf(1, 1);
  await tick();
  t.deepEqual(chunks, [1, 1], 'an idle pool: each turn goes at once');
  const waiting = [...turnOf(2, 3)];
  await tick();
  waiting.push(...turnOf(5, 2));
  await tick();
  t.deepEqual(chunks, [1, 1], 'both threads busy: nothing more is sent');
  runner.answer(0);
  await Promise.all(first);
  await tick();
  t.deepEqual(chunks, [1, 1, 5], 'one answered: the five waiting go in one message');
  runner.answer(1);
  runner.answer(2);
  t.deepEqual(
    (await Promise.all([...second, ...waiting])).map((r) => (r.ok ? r.value : undefined)),
    [1, 2, 3, 4, 5, 6],
  );
});

test('one active thread: a spare gets a task only once the one in flight passes spareAfterMs', async (t) => {
  const runner = heldRunner();
  // well above two turns of the event loop, even on a loaded machine
  const spareAfterMs = 1_000;
  const batcher = new TaskBatcher(runner, { active: 1, max: 2, spareAfterMs });
  const first = batcher.submit(item(0));
  const sentAt = performance.now();
  await tick();
  const second = batcher.submit(item(1));
  await tick();
  t.deepEqual(runner.chunks, [1], 'the first task is in flight and not stalled: the second waits');
  await until(() => runner.chunks.length === 2, 10_000, 'the second task sent to a spare');
  t.true(performance.now() - sentAt >= spareAfterMs, 'not before the first task stalled');
  const third = batcher.submit(item(2));
  // long enough for the second task to stall too
  await new Promise((resolve) => setTimeout(resolve, spareAfterMs * 1.2));
  t.deepEqual(runner.chunks, [1, 1], 'both threads (max 2) hold a task: nothing more goes, stalled or not');
  // a chain submitted while both are stalled looks again, and still finds no thread
  const fourth = batcher.submit(item(3));
  await tick();
  await tick();
  t.deepEqual(runner.chunks, [1, 1], 'two stalled tasks never open a third thread past max');
  runner.answer(1);
  await until(() => runner.chunks.length === 3, 10_000, 'the third and fourth chains sent');
  runner.answer(2);
  runner.answer(0);
  t.deepEqual(
    (await Promise.all([first, second, third, fourth])).map((r) => (r.ok ? r.value : undefined)),
    [0, 1, 2, 3],
  );
});

test('one active thread and no stall: a burst goes one task at a time, in batch-size chunks', async (t) => {
  const runner = heldRunner();
  const batcher = new TaskBatcher(runner, { active: 1, max: 2, spareAfterMs: 60_000 }, 32);
  const replies = Promise.all(Array.from({ length: 80 }, (_, i) => batcher.submit(item(i))));
  await tick();
  t.deepEqual(runner.chunks, [32], 'one task in flight');
  runner.answer(0);
  await until(() => runner.chunks.length === 2);
  t.deepEqual(runner.chunks, [32, 32]);
  runner.answer(1);
  await until(() => runner.chunks.length === 3);
  runner.answer(2);
  t.deepEqual(runner.chunks, [32, 32, 16]);
  t.is((await replies).length, 80);
});

test('flush sends everything pending at once, however many tasks are in flight', async (t) => {
  const runner = heldRunner();
  const batcher = new TaskBatcher(runner, { active: 1, max: 1, spareAfterMs: 60_000 }, 32);
  const replies = Array.from({ length: 70 }, (_, i) => batcher.submit(item(i)));
  t.deepEqual(runner.chunks, [32], 'a full batch went at once; the rest waits for a free thread');
  batcher.flush();
  t.deepEqual(runner.chunks, [32, 32, 6]);
  for (const i of [0, 1, 2]) runner.answer(i);
  t.is((await Promise.all(replies)).length, 70);
});
