import test from 'ava';
import {
  monotonicMs,
  ProgressSlots,
  progressValue,
  type SlotLease,
} from '../../../core/pool/progress-slots.js';
import {
  type Expiry,
  MAX_PAUSE_RESTARTS,
  TaskWatchdog,
  type WatchdogOptions,
} from '../../../core/pool/task-watchdog.js';

/** What a worker does: write the start time, then the progress value. */
function enter(slots: ProgressSlots, lease: SlotLease, item: number, position: number) {
  new Float64Array(slots.startedBuffer)[lease.slot] = monotonicMs();
  Atomics.store(new Int32Array(slots.buffer), lease.slot, progressValue(lease.stamp, item, position));
}

function watch(budgets: number[][], allowanceMs = 10, options: WatchdogOptions = {}) {
  const slots = new ProgressSlots(1);
  const lease = slots.acquire() as SlotLease;
  let resolve!: (e: Expiry) => void;
  const expired = new Promise<Expiry>((r) => {
    resolve = r;
  });
  const dog = new TaskWatchdog(slots, lease, budgets, resolve, { queueAllowanceMs: allowanceMs, ...options });
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

/** A monotonic clock that a test steps forward, as a stopped process sees it on resume. */
function steppedClock() {
  let offset = 0;
  return { now: () => monotonicMs() + offset, step: (ms: number) => (offset += ms) };
}

test('a timer that fires long late (the process was stopped) restarts the budget instead of expiring', async (t) => {
  const clock = steppedClock();
  const pauses: number[] = [];
  const { slots, lease, dog, expired } = watch([[60]], 10, {
    now: clock.now,
    onPause: (lateMs) => pauses.push(lateMs),
  });
  t.teardown(() => dog.stop());
  enter(slots, lease, 0, 0);
  // the process "sleeps" 5 s before the timer's turn comes
  clock.step(5_000);
  const first = await Promise.race([
    expired.then(() => 'expired'),
    new Promise((r) => setTimeout(() => r('running'), 90)),
  ]);
  t.is(first, 'running', 'the budget restarted at the resume');
  t.is(pauses.length, 1);
  t.true((pauses[0] ?? 0) >= 4_000);
  // without another pause the restarted budget runs out as usual
  const expiry = await expired;
  t.deepEqual(expiry, { started: true, at: { item: 0, position: 0 }, budgetMs: 60 });
});

test('pauses are forgiven a bounded number of times per task', async (t) => {
  const clock = steppedClock();
  let pauses = 0;
  const { slots, lease, dog, expired } = watch([[20]], 10, { now: clock.now, onPause: () => pauses++ });
  t.teardown(() => dog.stop());
  enter(slots, lease, 0, 0);
  // a stall before every firing: the watchdog stops forgiving after MAX_PAUSE_RESTARTS
  const stall = setInterval(() => clock.step(2_000), 5);
  t.teardown(() => clearInterval(stall));
  const expiry = await expired;
  t.is(pauses, MAX_PAUSE_RESTARTS);
  t.true(expiry.started);
});
