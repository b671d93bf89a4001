import test from 'ava';
import { PAUSE_DETECT_MS } from '../../../core/di/deadline.js';
import { armWorkDeadline, MAX_PAUSES, PAUSE_TICK_MS, startPauseMeter } from '../../../core/di/pause-meter.js';
import { FakeClock } from '../transport/fake-clock.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a gap of PAUSE_DETECT_MS or more between readings is a pause, left out of now()', (t) => {
  let at = 1_000;
  const meter = startPauseMeter(() => at);
  t.teardown(() => meter.stop());
  at += 60;
  t.is(meter.now(), 1_060);
  // a stop of 5 s: counted less one tick (the time before the stop since the last reading)
  at += 5_000;
  t.is(meter.now(), 6_060 - (5_000 - PAUSE_TICK_MS));
  t.is(meter.paused(), 5_000 - PAUSE_TICK_MS);
});

test('a gap shorter than PAUSE_DETECT_MS is time the process ran', (t) => {
  let at = 0;
  const meter = startPauseMeter(() => at);
  t.teardown(() => meter.stop());
  at += PAUSE_DETECT_MS - 1;
  t.is(meter.now(), PAUSE_DETECT_MS - 1);
  t.is(meter.paused(), 0);
});

test('after MAX_PAUSES pauses, later gaps count as time run (a stalled thread must still end a bound)', (t) => {
  let at = 0;
  const meter = startPauseMeter(() => at);
  t.teardown(() => meter.stop());
  for (let i = 0; i < MAX_PAUSES + 1; i++) {
    at += 2_000;
    meter.now();
  }
  t.is(meter.paused(), MAX_PAUSES * (2_000 - PAUSE_TICK_MS));
});

test('the longest gaps are left out, not the first: stalls of a loaded machine do not use up a freeze', (t) => {
  let at = 0;
  const meter = startPauseMeter(() => at);
  t.teardown(() => meter.stop());
  // a loaded machine's stalls of a little over a second each ...
  for (let i = 0; i < MAX_PAUSES; i++) {
    at += PAUSE_DETECT_MS + 200;
    meter.now();
  }
  // ... then the real freeze, longer than the drain's whole budget
  at += 9_000;
  const before = meter.now();
  // was: the freeze counted whole as time run (its three pauses spent), so a bound on the meter
  // ended at the resume
  t.is(meter.paused(), 9_000 - PAUSE_TICK_MS + (MAX_PAUSES - 1) * (PAUSE_DETECT_MS + 200 - PAUSE_TICK_MS));
  // the stall it no longer leaves out counts as time run: the meter never goes back
  at += 10;
  t.true(meter.now() > before);
});

test('a work deadline late by a pause waits for the rest of its time, then fires once', async (t) => {
  const clock = new FakeClock();
  let at = 0;
  const meter = startPauseMeter(() => at);
  t.teardown(() => meter.stop());
  let fired = 0;
  armWorkDeadline(clock, meter, 1_000, () => fired++);
  at = 500;
  meter.now();
  // stopped 5 s: the timer fires at the resume with 500 ms of its time still to run
  at += 5_000 + PAUSE_TICK_MS;
  clock.advance(1_000);
  await turn();
  t.is(fired, 0, 'the frozen time is not counted');
  at += 500;
  clock.advance(500);
  await turn();
  t.is(fired, 1);
});
