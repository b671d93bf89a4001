import test from 'ava';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import {
  HELD_WRITES_MAX,
  KvStore,
  REMEMBER_KNOWN_MAX,
  REMEMBER_TRUST_MS,
} from '../../../core/store/kv-store.js';
import { REMEMBER_SLACK_MAX_MS, rememberSlackMs, rememberWrite } from '../../../core/store/remember-rule.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** A store on a fresh file with a settable clock. */
function storeWithClock(t: Parameters<typeof tempDir>[0], file = databasePath(tempDir(t))) {
  const clock = { now: 1_000_000 };
  const db = openDatabase(file);
  t.teardown(() => db.close());
  return { kv: new KvStore(db, () => clock.now), clock, file };
}

test('set, get and delete JSON values', (t) => {
  const { kv } = storeWithClock(t);
  const ns = kv.namespace('p');
  t.is(ns.get('missing'), undefined);
  ns.set('obj', { a: [1, 'two', null], b: true });
  ns.set('num', 123);
  ns.set('str', '123');
  t.deepEqual(ns.get('obj'), { a: [1, 'two', null], b: true });
  // a JSON string that looks like a number stays a string
  t.is(ns.get('num'), 123);
  t.is(ns.get('str'), '123');
  ns.set('num', 456);
  t.is(ns.get('num'), 456);
  ns.delete('num');
  t.is(ns.get('num'), undefined);
});

test('namespaces do not see each other', (t) => {
  const { kv } = storeWithClock(t);
  kv.namespace('a').set('k', 'from a');
  kv.namespace('b').set('k', 'from b');
  t.is(kv.namespace('a').get('k'), 'from a');
  t.is(kv.namespace('b').get('k'), 'from b');
  kv.namespace('a').delete('k');
  t.is(kv.namespace('b').get('k'), 'from b');
});

test('a value with a TTL is gone once expired, and kept without one', (t) => {
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  ns.set('short', 'v', 1_000);
  ns.set('forever', 'v');
  clock.now += 999;
  t.is(ns.get('short'), 'v');
  clock.now += 1;
  t.is(ns.get('short'), undefined);
  clock.now += 10 ** 9;
  t.is(ns.get('forever'), 'v');
});

test('set without a TTL clears a previous expiry', (t) => {
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  ns.set('k', 1, 10);
  ns.set('k', 2);
  clock.now += 1_000;
  t.is(ns.get('k'), 2);
});

test('setting undefined deletes; unencodable values and bad TTLs throw', (t) => {
  const { kv } = storeWithClock(t);
  const ns = kv.namespace('p');
  ns.set('k', 'v');
  ns.set('k', undefined);
  t.is(ns.get('k'), undefined);
  t.throws(() => ns.set('k', 10n), { instanceOf: TypeError });
  for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => ns.set('k', 'v', ttl), { instanceOf: RangeError }, `ttl ${ttl}`);
  }
  t.is(ns.get('k'), undefined);
});

test('two connections to one file share the rows', (t) => {
  const first = storeWithClock(t);
  const second = storeWithClock(t, first.file);
  first.kv.namespace('p').set('k', { from: 'first' });
  t.deepEqual(second.kv.namespace('p').get('k'), { from: 'first' });
  second.kv.namespace('p').delete('k');
  t.is(first.kv.namespace('p').get('k'), undefined);
});

/** The stored expiry of `p`/`key` (epoch ms), read from the file. */
function expiryOf(kv: KvStore, key = 'k'): number | undefined {
  const row = kv.database.prepare('SELECT expires_at FROM kv WHERE ns = ? AND key = ?').get('p', key) as
    | { expires_at: number }
    | undefined;
  return row?.expires_at;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

test('the slack of a remember write is half the TTL, at most an hour', (t) => {
  t.is(REMEMBER_SLACK_MAX_MS, HOUR_MS);
  t.is(rememberSlackMs(1_000), 500);
  t.is(rememberSlackMs(2 * HOUR_MS), HOUR_MS);
  t.is(rememberSlackMs(7 * DAY_MS), HOUR_MS);
});

test('remember writes a new or changed value; an unchanged one only once it would not last ttlMs more', (t) => {
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  const slack = rememberSlackMs(1_000);
  t.true(ns.remember('k', { a: 1 }, 1_000), 'absent: written');
  const written = clock.now;
  t.is(expiryOf(kv), written + 1_000 + slack);
  clock.now += slack;
  t.false(ns.remember('k', { a: 1 }, 1_000), 'same value, still ttlMs to live: skipped');
  t.is(expiryOf(kv), written + 1_000 + slack);
  t.true(ns.remember('k', { a: 2 }, 1_000), 'changed: written at once');
  t.deepEqual(ns.get('k'), { a: 2 });
  clock.now += slack + 1;
  t.true(ns.remember('k', { a: 2 }, 1_000), 'would expire sooner than ttlMs from now: refreshed');
  t.is(expiryOf(kv), clock.now + 1_000 + slack);
  clock.now += 2_000;
  t.is(ns.get('k'), undefined);
  t.true(ns.remember('k', { a: 2 }, 1_000), 'expired: written again');
  t.deepEqual(ns.get('k'), { a: 2 });
});

test('a remembered value lives at least ttlMs after the last call, even a call that wrote nothing', (t) => {
  // a chat's memory (7 days) seen again after 3 days, then quiet
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  const ttl = 7 * DAY_MS;
  t.true(ns.remember('k', 'memory', ttl));
  clock.now += 3 * DAY_MS;
  ns.remember('k', 'memory', ttl);
  const last = clock.now;
  clock.now = last + ttl - 1;
  t.is(ns.get('k'), 'memory', 'still there just before ttlMs after the last call');
  clock.now = last + ttl + REMEMBER_SLACK_MAX_MS;
  t.is(ns.get('k'), undefined, 'gone once the slack past ttlMs is over');
});

test('after every remember the value lives between ttlMs and ttlMs + slack; a hot key writes once per slack', (t) => {
  for (const ttl of [100, 1_000, 7 * DAY_MS]) {
    const { kv, clock } = storeWithClock(t);
    const ns = kv.namespace('p');
    const slack = rememberSlackMs(ttl);
    // gaps from 1 ms to past the TTL, in a fixed pseudo-random order (a small LCG)
    let seed = 7;
    const gap = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return 1 + (seed % Math.ceil(ttl * 1.2));
    };
    for (let i = 0; i < 300; i++) {
      clock.now += gap();
      ns.remember('k', 'v', ttl);
      const expiry = expiryOf(kv) ?? 0;
      t.true(
        expiry >= clock.now + ttl && expiry <= Math.ceil(clock.now + ttl + slack),
        `ttl ${ttl}, call ${i}`,
      );
    }
    // a call every slack / 10 for 20 slack periods: about 20 writes, never one per call
    let writes = 0;
    for (let i = 0; i < 200; i++) {
      clock.now += slack / 10;
      if (ns.remember('hot', 'v', ttl)) writes += 1;
    }
    t.true(writes >= 17 && writes <= 21, `ttl ${ttl}: ${writes} writes`);
  }
});

test('rememberWrite is the one rule: the expiry to write, or undefined to skip', (t) => {
  const now = 10_000;
  t.is(rememberWrite(undefined, '"v"', 1_000, now), now + 1_500);
  t.is(rememberWrite({ value: '"v"', expires_at: null }, '"v"', 1_000, now), now + 1_500);
  t.is(rememberWrite({ value: '"w"', expires_at: now + 5_000 }, '"v"', 1_000, now), now + 1_500);
  t.is(rememberWrite({ value: '"v"', expires_at: now + 1_000 }, '"v"', 1_000, now), undefined);
  t.is(rememberWrite({ value: '"v"', expires_at: now + 999 }, '"v"', 1_000, now), now + 1_500);
});

test("remember trusts its own connection for REMEMBER_TRUST_MS, then sees another connection's write", (t) => {
  const first = storeWithClock(t);
  const second = storeWithClock(t, first.file);
  second.clock.now = first.clock.now;
  const mine = first.kv.namespace('p');
  const theirs = second.kv.namespace('p');
  const ttl = 60_000;
  t.true(mine.remember('k', 'v1', ttl), 'absent: written');
  theirs.set('k', 'v2', ttl);
  // within the window the first connection goes by what it wrote itself: no read, no write
  first.clock.now += REMEMBER_TRUST_MS - 1;
  t.false(mine.remember('k', 'v1', ttl));
  t.is(theirs.get('k'), 'v2');
  // past it, it reads again, finds the other value and writes its own
  first.clock.now += 1;
  t.true(mine.remember('k', 'v1', ttl));
  t.is(theirs.get('k'), 'v1');
  // a delete by the other connection is seen the same way
  theirs.delete('k');
  first.clock.now += REMEMBER_TRUST_MS;
  t.true(mine.remember('k', 'v1', ttl), 'deleted elsewhere: written again');
  t.is(theirs.get('k'), 'v1');
});

test('a trusted row still gets its refresh, and set and delete on the same connection update it', (t) => {
  const { kv, clock } = storeWithClock(t);
  const ns = kv.namespace('p');
  t.true(ns.remember('k', 'v', 1_000));
  clock.now += 501; // inside the trust window, and the slack used up
  t.true(ns.remember('k', 'v', 1_000), 'would not last ttlMs more: refreshed without a read');
  ns.set('k', 'other', 1_000);
  t.true(ns.remember('k', 'v', 1_000), 'changed by set on this connection: written');
  t.is(ns.get('k'), 'v');
  ns.delete('k');
  t.true(ns.remember('k', 'v', 1_000), 'deleted on this connection: written again');
  t.is(ns.get('k'), 'v');
});

test('remember keeps at most REMEMBER_KNOWN_MAX rows in memory and stays exact past it', (t) => {
  const { kv } = storeWithClock(t);
  const ns = kv.namespace('p');
  for (let i = 0; i <= REMEMBER_KNOWN_MAX; i++) ns.remember(`k${i}`, i, 60_000);
  const known = (kv as unknown as { known: Map<string, unknown> }).known;
  t.is(known.size, REMEMBER_KNOWN_MAX);
  t.false(known.has('p\u0000k0'), 'the oldest is dropped first');
  // the dropped key is read again, not assumed absent
  t.false(ns.remember('k0', 0, 60_000));
  t.true(known.has('p\u0000k0'));
});

test('remember over a value kept without expiry writes; undefined deletes; a bad TTL throws', (t) => {
  const { kv } = storeWithClock(t);
  const ns = kv.namespace('p');
  ns.set('k', 'v');
  t.true(ns.remember('k', 'v', 1_000), 'a value without expiry takes the TTL');
  t.false(ns.remember('k', 'v', 1_000));
  t.true(ns.remember('k', undefined, 1_000));
  t.is(ns.get('k'), undefined);
  for (const ttl of [0, -1, Number.NaN]) {
    t.throws(() => ns.remember('k', 'v', ttl), { instanceOf: RangeError }, `ttl ${ttl}`);
  }
});

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
