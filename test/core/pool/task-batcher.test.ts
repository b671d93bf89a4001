/**
 * The task batcher's chunking, against a recording runner: a turn's chains travel together, are
 * spread over the threads only in chunks worth a message, never beyond the batch size, and each
 * caller gets its own reply in order.
 */
import test from 'ava';
import type { BatchItem } from '../../../core/pool/plugin-pool.js';
import { type BatchRunner, MIN_SPREAD_CHUNK, TaskBatcher } from '../../../core/pool/task-batcher.js';
import type { TaskReply } from '../../../core/pool/task-protocol.js';

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
  const batcher = new TaskBatcher(runner, 2);
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
  const batcher = new TaskBatcher(runner, 2, 32);
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
  const chunks: number[] = [];
  const answers: (() => void)[] = [];
  const runner: BatchRunner = {
    run: (items) =>
      new Promise((resolve) => {
        chunks.push(items.length);
        answers.push(() =>
          resolve(items.map((i) => ({ ok: true, value: i.budgets[0], ms: [] }) as TaskReply)),
        );
      }),
  };
  const batcher = new TaskBatcher(runner, 2);
  const turnOf = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => batcher.submit(item(from + i)));
  const tick = () => new Promise((resolve) => setImmediate(resolve));
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
  answers[0]?.();
  await Promise.all(first);
  await tick();
  t.deepEqual(chunks, [1, 1, 5], 'one answered: the five waiting go in one message');
  for (const answer of answers.slice(1)) answer();
  t.deepEqual(
    (await Promise.all([...second, ...waiting])).map((r) => (r.ok ? r.value : undefined)),
    [1, 2, 3, 4, 5, 6],
  );
});
