import test from 'ava';
import { armDeadline, MAX_SETTLE_TURNS, PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { FakeClock } from '../transport/fake-clock.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A deadline on a fake clock whose monotonic time the test sets (a freeze is a jump). */
function setup(progress?: () => number) {
  const clock = new FakeClock();
  let mono = 0;
  let fired = 0;
  const deadline = armDeadline(clock, 100, () => fired++, {
    now: () => mono,
    ...(progress ? { progress } : {}),
  });
  return {
    clock,
    deadline,
    fired: () => fired,
    /** The timer fires `lateMs` after its due time. */
    fireLate(lateMs: number) {
      mono = 100 + lateMs;
      clock.advance(100);
    },
  };
}

test('a deadline on time fires in its timer', (t) => {
  const d = setup();
  d.fireLate(PAUSE_DETECT_MS - 1);
  t.is(d.fired(), 1);
});

test('a deadline fired late by a freeze gives its verdict a turn later, after the pending input was read', async (t) => {
  const d = setup();
  d.fireLate(PAUSE_DETECT_MS);
  t.is(d.fired(), 0);
  await turn();
  t.is(d.fired(), 1);
  await turn();
  t.is(d.fired(), 1);
});

test('a late deadline cleared while deferred (its answer was read) never fires', async (t) => {
  const d = setup();
  d.fireLate(5_000);
  d.deadline.clear();
  await turn();
  await turn();
  t.is(d.fired(), 0);
});

test('a late deadline waits while its input keeps arriving, then fires', async (t) => {
  let bytes = 0;
  const d = setup(() => bytes);
  d.fireLate(5_000);
  for (let i = 0; i < 5; i++) {
    bytes += 65_536;
    await turn();
    t.is(d.fired(), 0, `input still arriving at turn ${i}`);
  }
  await turn();
  t.is(d.fired(), 1);
});

test('a late deadline waits at most MAX_SETTLE_TURNS turns under a steady stream', async (t) => {
  let bytes = 0;
  const d = setup(() => bytes);
  d.fireLate(5_000);
  for (let i = 0; i < MAX_SETTLE_TURNS + 2 && d.fired() === 0; i++) {
    bytes++;
    await turn();
  }
  t.is(d.fired(), 1);
});
