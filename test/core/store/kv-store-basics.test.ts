/**
 * The plugin key-value store on a real SQLite file: set, get and delete of JSON values, namespaces kept
 * apart, TTL expiry (and set without a TTL clearing it), what throws, and two connections to one file
 * sharing the rows.
 */
import test from 'ava';
import { storeWithClock } from './kv-store-harness.js';

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
