/**
 * The plugin key-value store's remember on a real SQLite file: the write slack (half the TTL, at most an
 * hour), when an unchanged value is written again, the lifetime it guarantees, rememberWrite as the one
 * rule, trusting its own connection for REMEMBER_TRUST_MS, and the REMEMBER_KNOWN_MAX rows it keeps in
 * memory.
 */
import test from 'ava';
import { KvStore, REMEMBER_KNOWN_MAX, REMEMBER_TRUST_MS } from '../../../core/store/kv-store.js';
import { REMEMBER_SLACK_MAX_MS, rememberSlackMs, rememberWrite } from '../../../core/store/remember-rule.js';
import { storeWithClock } from './kv-store-harness.js';

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
