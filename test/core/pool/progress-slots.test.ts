import test from 'ava';
import { ProgressSlots, progressValue } from '../../../core/pool/progress-slots.js';
import { MAX_BATCH, MAX_CHAIN, SLOT_STAMP_STRIDE } from '../../../core/pool/task-protocol.js';

/** What a worker does: write the start time, then the progress value. */
function workerEnters(
  slots: ProgressSlots,
  lease: { slot: number; stamp: number },
  item: number,
  position: number,
  at = Date.now(),
) {
  new Float64Array(slots.startedBuffer)[lease.slot] = at;
  Atomics.store(new Int32Array(slots.buffer), lease.slot, progressValue(lease.stamp, item, position));
}

test('a fresh lease reads as not started', (t) => {
  const slots = new ProgressSlots(4);
  const lease = slots.acquire();
  if (!lease) return t.fail('no lease');
  t.is(slots.progress(lease), undefined);
});

test('the worker-written item and position are read back, with their start time', (t) => {
  const slots = new ProgressSlots(4);
  const lease = slots.acquire();
  if (!lease) return t.fail('no lease');
  workerEnters(slots, lease, 0, 0, 42);
  t.deepEqual(slots.progress(lease), { item: 0, position: 0 });
  t.is(slots.startedAt(lease), 42);
  workerEnters(slots, lease, MAX_BATCH - 1, MAX_CHAIN - 1, 43);
  t.deepEqual(slots.progress(lease), { item: MAX_BATCH - 1, position: MAX_CHAIN - 1 });
  t.is(slots.startedAt(lease), 43);
});

test('a write under an older stamp of the same slot reads as not started', (t) => {
  const slots = new ProgressSlots(1);
  const first = slots.acquire();
  if (!first) return t.fail('no lease');
  slots.release(first);
  const second = slots.acquire();
  if (!second) return t.fail('no lease');
  t.is(second.slot, first.slot);
  t.not(second.stamp, first.stamp);
  // a terminated worker's late write for the first task
  workerEnters(slots, first, 0, 3);
  t.is(slots.progress(second), undefined);
});

test('slots run out, then come back on release', (t) => {
  const slots = new ProgressSlots(2);
  const a = slots.acquire();
  const b = slots.acquire();
  t.truthy(a && b);
  t.is(slots.acquire(), undefined);
  t.is(slots.inUse, 2);
  if (a) slots.release(a);
  t.truthy(slots.acquire());
});

test('stamps stay inside an Int32 over many generations', (t) => {
  const slots = new ProgressSlots(1);
  let max = 0;
  for (let i = 0; i < 70_000; i++) {
    const lease = slots.acquire();
    if (!lease) return t.fail('no lease');
    max = Math.max(max, lease.stamp);
    t.not(lease.stamp, 0);
    slots.release(lease);
  }
  t.true(max + SLOT_STAMP_STRIDE <= 2 ** 31 - 1);
});
