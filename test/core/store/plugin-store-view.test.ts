/**
 * `ctx.store` as a plugin sees it (docs/plugins.md §6): values must be JSON data. A value JSON
 * would flatten or drop — a Map, a class instance, a function — throws naming the key, instead of
 * storing `{}` or silently deleting what was there; keys and values are bounded.
 */
import test from 'ava';
import { KvStore } from '../../../core/store/kv-store.js';
import {
  MAX_STORE_KEY_CHARS,
  MAX_STORE_VALUE_CHARS,
  namespaceView,
} from '../../../core/store/plugin-store-view.js';
import { tempDatabase } from '../../helpers/temp-db.js';

function view(t: Parameters<typeof tempDatabase>[0]) {
  const kv = new KvStore(tempDatabase(t));
  return namespaceView(() => kv, 'p');
}

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

test('a value or a key past its bound is refused', (t) => {
  const store = view(t);
  t.throws(() => store.set('big', 'x'.repeat(MAX_STORE_VALUE_CHARS + 1)), { instanceOf: TypeError });
  t.throws(() => store.set('k'.repeat(MAX_STORE_KEY_CHARS + 1), 1), { instanceOf: RangeError });
  t.throws(() => store.set('', 1), { instanceOf: RangeError });
  t.is(store.get('big'), undefined);
});
