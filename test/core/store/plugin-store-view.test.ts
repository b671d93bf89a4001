/**
 * `ctx.store` as a plugin sees it (docs/plugins.md §6): values must be JSON data. A value JSON
 * would flatten or drop — a Map, a class instance, a function — throws naming the key, instead of
 * storing `{}` or silently deleting what was there; keys and values are bounded.
 */
import test from 'ava';
import { KvStore } from '../../../core/store/kv-store.js';
import { namespaceView } from '../../../core/store/plugin-store-view.js';
import { DEFAULT_STORE_LIMITS, type StoreLimits } from '../../../core/store/store-limits.js';
import { tempDatabase } from '../../helpers/temp-db.js';

function view(t: Parameters<typeof tempDatabase>[0], limits?: StoreLimits) {
  const kv = new KvStore(tempDatabase(t), Date.now, limits);
  return namespaceView(() => kv, 'p');
}

const KEY_TOO_LARGE = { code: 'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE' };
const VALUE_TOO_LARGE = { code: 'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE' };

test('a function, a Map or a class instance is refused naming the key; what was stored stays', (t) => {
  const store = view(t);
  store.set('k', { n: 1 });
  for (const value of [
    () => 1,
    new Map([['a', 1]]),
    new (class Point {
      x = 1;
    })(),
    { f: () => 1 },
  ]) {
    t.throws(() => store.set('k', value), { instanceOf: TypeError });
    t.throws(() => store.remember('k', value, 60_000), { instanceOf: TypeError });
  }
  t.deepEqual(store.get('k'), { n: 1 });
});

test('undefined still deletes; a Date is stored as its ISO string', (t) => {
  const store = view(t);
  store.set('d', { at: new Date(0) });
  t.deepEqual(store.get('d'), { at: '1970-01-01T00:00:00.000Z' });
  store.set('d', undefined);
  t.is(store.get('d'), undefined);
});

test('a value or a key past its default bound is refused with its code', (t) => {
  const store = view(t);
  const { maxKeyBytes, maxValueBytes } = DEFAULT_STORE_LIMITS;
  t.throws(() => store.set('big', 'x'.repeat(maxValueBytes - 1)), VALUE_TOO_LARGE); // + 2 quotes
  t.throws(() => store.set('big', 'x'.repeat(10 * maxValueBytes)), VALUE_TOO_LARGE);
  t.throws(() => store.set('k'.repeat(maxKeyBytes + 1), 1), KEY_TOO_LARGE);
  t.throws(() => store.set('', 1), { instanceOf: RangeError });
  store.set('k'.repeat(maxKeyBytes), 'x'.repeat(maxValueBytes - 2));
  t.is(store.get('big'), undefined);
  t.is((store.get('k'.repeat(maxKeyBytes)) as string).length, maxValueBytes - 2);
});

test('sizes are UTF-8 bytes: a key or value within the limit in characters but not in bytes is refused', (t) => {
  const store = view(t, { maxKeyBytes: 8, maxValueBytes: 12 });
  store.set('éééé', 'éééééé'.slice(0, 5)); // 8 bytes of key, 2 + 10 of value
  t.is(store.get('éééé'), 'ééééé');
  const key = t.throws(() => store.set('ééééé', 1), KEY_TOO_LARGE);
  t.regex(key?.message ?? '', /"ééééé" is 10 bytes, over store\.maxKeyBytes \(8\): use a shorter key/);
  const value = t.throws(() => store.set('k', 'éééééé'), VALUE_TOO_LARGE);
  t.regex(value?.message ?? '', /"k" is 14 bytes as JSON, over store\.maxValueBytes \(12\)/);
  t.throws(() => store.remember('k', 'éééééé', 60_000), VALUE_TOO_LARGE);
  t.throws(() => store.remember('ééééé', 1, 60_000), KEY_TOO_LARGE);
  t.throws(() => store.set('k', { a: ['é', 'é', 'é', 'é'] }), VALUE_TOO_LARGE);
  t.is(store.get('k'), undefined, 'nothing written');
  // reading or deleting a key longer than the limit (written under a larger one) still works
  t.is(store.get('ééééé'), undefined);
  t.notThrows(() => store.delete('ééééé'));
});

test('a refused write is not held: the held writes of the task commit without it', (t) => {
  const kv = new KvStore(tempDatabase(t), Date.now, { maxKeyBytes: 8, maxValueBytes: 12 });
  const store = namespaceView(() => kv, 'p');
  kv.hold(() => 'chain');
  store.set('a', 1);
  t.throws(() => store.set('b', 'x'.repeat(20)), VALUE_TOO_LARGE);
  t.throws(() => kv.set('p', 'b', 'x'.repeat(20)), VALUE_TOO_LARGE, 'the raw store checks too');
  t.is(kv.release(), undefined);
  t.is(store.get('a'), 1);
  t.is(store.get('b'), undefined);
});
