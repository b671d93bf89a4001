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
