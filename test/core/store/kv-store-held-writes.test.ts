/**
 * The plugin key-value store's held writes on a real SQLite file: read back on their connection and
 * committed together at release, expiring like stored ones, a failed commit naming its writers and losing
 * their writes, and an early commit past HELD_WRITES_MAX.
 */
import test from 'ava';
import { HELD_WRITES_MAX } from '../../../core/store/kv-store.js';
import { storeWithClock } from './kv-store-harness.js';

test('held writes are read back on their connection and reach the file together at release', (t) => {
  const mine = storeWithClock(t);
  const theirs = storeWithClock(t, mine.file);
  const [a, b] = [mine.kv.namespace('p'), theirs.kv.namespace('p')];
  b.set('gone', 'old');
  b.set('kept', 'old');
  mine.kv.hold(() => 'w');
  a.set('k', { v: 1 }, 60_000);
  t.true(a.remember('r', 'x', 60_000));
  t.false(a.remember('r', 'x', 60_000), 'a held write counts as what is stored');
  a.delete('gone');
  a.set('kept', 'first');
  a.set('kept', 'last');
  t.deepEqual(a.get('k'), { v: 1 });
  t.is(a.get('gone'), undefined, 'a held delete hides the row');
  t.is(a.get('kept'), 'last', 'the latest held write of a key wins');
  // nothing has reached the file yet
  t.is(b.get('k'), undefined);
  t.is(b.get('r'), undefined);
  t.is(b.get('gone'), 'old');
  t.is(b.get('kept'), 'old');
  t.is(mine.kv.release(), undefined);
  t.deepEqual(b.get('k'), { v: 1 });
  t.is(b.get('r'), 'x');
  t.is(b.get('gone'), undefined);
  t.is(b.get('kept'), 'last');
  // released: writes commit at once again
  a.set('after', 1);
  t.is(b.get('after'), 1);
});

test('a held write expires like a stored one', (t) => {
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  kv.hold(() => 'w');
  ns.set('k', 'v', 1_000);
  clock.now += 1_000;
  t.is(ns.get('k'), undefined);
  t.true(ns.remember('k', 'v', 1_000), 'expired: written again');
  t.is(ns.get('k'), 'v');
  t.is(kv.release(), undefined);
});

test('a commit that fails names the writers, loses their writes and forgets what remember knew', (t) => {
  const mine = storeWithClock(t);
  const theirs = storeWithClock(t, mine.file);
  mine.kv.database.pragma('busy_timeout = 20');
  const a = mine.kv.namespace('p');
  let writer = 'first';
  mine.kv.hold(() => writer);
  t.true(a.remember('k', 'v', 60_000));
  writer = 'second';
  a.set('other', 1);
  a.get('other');
  writer = 'reader only';
  // another connection holds the write lock past the busy timeout
  theirs.kv.database.exec('BEGIN IMMEDIATE');
  const lost = mine.kv.release<string>();
  theirs.kv.database.exec('COMMIT');
  t.deepEqual(lost?.owners, ['first', 'second']);
  t.regex(String((lost?.error as Error | undefined)?.message), /locked|busy/i);
  t.is(theirs.kv.namespace('p').get('k'), undefined);
  t.is(a.get('other'), undefined, 'the lost write is not read back');
  t.true(a.remember('k', 'v', 60_000), 'not trusted any more: written again');
  t.is(theirs.kv.namespace('p').get('k'), 'v');
  t.is(mine.kv.release(), undefined, 'not holding: nothing to report');
});

test('past HELD_WRITES_MAX held writes commit early, still holding the rest', (t) => {
  const mine = storeWithClock(t);
  const theirs = storeWithClock(t, mine.file);
  mine.kv.hold(() => 'w');
  const ns = mine.kv.namespace('p');
  for (let i = 0; i < HELD_WRITES_MAX; i++) ns.set(`k${i}`, i);
  t.is(theirs.kv.namespace('p').get(`k${HELD_WRITES_MAX - 1}`), HELD_WRITES_MAX - 1);
  ns.set('one more', true);
  t.is(theirs.kv.namespace('p').get('one more'), undefined);
  t.is(mine.kv.release(), undefined);
  t.is(theirs.kv.namespace('p').get('one more'), true);
});
