import test from 'ava';
import { BackoffLadder, backoffCeiling, backoffDelay } from '../../../core/transport/backoff.js';

const CONTRACT = { baseMs: 1_000, maxMs: 30_000 };
const ALMOST_ONE = 1 - Number.EPSILON;

test('the ceiling doubles from 1 s and caps at 30 s', (t) => {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, CONTRACT));
  t.deepEqual(ceilings, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  t.is(backoffCeiling(10_000, CONTRACT), 30_000);
  t.is(backoffCeiling(-3, CONTRACT), 1_000);
});

test('full jitter: the delay spans [0, ceiling)', (t) => {
  t.is(
    backoffDelay(3, CONTRACT, () => 0),
    0,
  );
  t.is(
    backoffDelay(3, CONTRACT, () => 0.5),
    4_000,
  );
  t.is(
    backoffDelay(3, CONTRACT, () => ALMOST_ONE),
    7_999,
  );
  t.is(
    backoffDelay(20, CONTRACT, () => ALMOST_ONE),
    29_999,
  );
});

test('a misbehaving random source cannot leave the range', (t) => {
  for (const r of [Number.NaN, -1, 1, 5, Number.POSITIVE_INFINITY]) {
    const d = backoffDelay(2, CONTRACT, () => r);
    t.true(d >= 0 && d < 4_000, `random ${r} gave ${d}`);
  }
});

test('the default source stays inside the ceiling', (t) => {
  for (let i = 0; i < 500; i++) {
    const d = backoffDelay(i % 8, CONTRACT);
    t.true(Number.isInteger(d) && d >= 0 && d < backoffCeiling(i % 8, CONTRACT));
  }
});

test('the ladder climbs on failures and starts over after reset', (t) => {
  const ladder = new BackoffLadder({ baseMs: 10, maxMs: 50 }, () => ALMOST_ONE);
  t.deepEqual([ladder.fail(), ladder.fail(), ladder.fail(), ladder.fail()], [9, 19, 39, 49]);
  t.is(ladder.attempts, 4);
  ladder.reset();
  t.is(ladder.attempts, 0);
  t.is(ladder.fail(), 9);
});
