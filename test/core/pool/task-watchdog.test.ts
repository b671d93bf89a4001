import test from 'ava';
import {
  monotonicMs,
  ProgressSlots,
  progressValue,
  type SlotLease,
} from '../../../core/pool/progress-slots.js';
import { type Expiry, TaskWatchdog } from '../../../core/pool/task-watchdog.js';

/** What a worker does: write the start time, then the progress value. */
function enter(slots: ProgressSlots, lease: SlotLease, item: number, position: number) {
  new Float64Array(slots.startedBuffer)[lease.slot] = monotonicMs();
  Atomics.store(new Int32Array(slots.buffer), lease.slot, progressValue(lease.stamp, item, position));
}

function watch(budgets: number[][], allowanceMs = 10) {
  const slots = new ProgressSlots(1);
  const lease = slots.acquire() as SlotLease;
  let resolve!: (e: Expiry) => void;
  const expired = new Promise<Expiry>((r) => {
    resolve = r;
  });
  const dog = new TaskWatchdog(slots, lease, budgets, resolve, allowanceMs);
  return { slots, lease, dog, expired };
}

test('a task that never starts expires as not started', async (t) => {
  const { dog, expired } = watch([[20]]);
  t.teardown(() => dog.stop());
  const expiry = await expired;
  t.false(expiry.started);
  t.is(dog.expiry, expiry);
});

test('a plugin that overruns its own budget is blamed by item and position', async (t) => {
  const { slots, lease, dog, expired } = watch([[5_000], [5_000, 20]]);
  t.teardown(() => dog.stop());
  enter(slots, lease, 1, 1);
  const expiry = await expired;
  t.deepEqual(expiry, { started: true, at: { item: 1, position: 1 }, budgetMs: 20 });
});

test('each plugin gets its own budget from when it starts', async (t) => {
  // position 0 finishes within its budget, position 1 then overruns its own
  const { slots, lease, dog, expired } = watch([[40, 40]]);
  t.teardown(() => dog.stop());
  enter(slots, lease, 0, 0);
  setTimeout(() => enter(slots, lease, 0, 1), 25);
  const expiry = await expired;
  t.true(expiry.started);
  if (expiry.started) t.deepEqual(expiry.at, { item: 0, position: 1 });
});

test('a stopped watchdog never fires', async (t) => {
  const { dog, expired } = watch([[10]]);
  dog.stop();
  const winner = await Promise.race([
    expired.then(() => 'expired'),
    new Promise((r) => setTimeout(() => r('quiet'), 60)),
  ]);
  t.is(winner, 'quiet');
  t.is(dog.expiry, undefined);
});
