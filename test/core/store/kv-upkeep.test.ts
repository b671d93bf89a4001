/**
 * The per-namespace key counts (kept by the `kv` schema's triggers, so reading them costs no scan)
 * and the eviction past a cap (docs/plugins.md §6, "At most `store.maxKeysPerPlugin` keys"), on a
 * real SQLite file, with two connections as the main thread and a worker have.
 */
import test from 'ava';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { KvUpkeep } from '../../../core/store/kv-upkeep.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** Two stores on one fresh file (the main thread's and a worker's), with one settable clock. */
function twoConnections(t: Parameters<typeof tempDir>[0]) {
  const file = databasePath(tempDir(t));
  const clock = { now: 1_000_000 };
  const open = () => {
    const db = openDatabase(file);
    t.teardown(() => db.close());
    return new KvStore(db, () => clock.now);
  };
  const main = open();
  return { main, worker: open(), cap: new KvUpkeep(main.database, () => clock.now), clock, file };
}

test('sweepExpired deletes only expired rows', (t) => {
  const { main: kv, cap, clock } = twoConnections(t);
  const ns = kv.namespace('p');
  for (let i = 0; i < 20; i++) ns.set(`old${i}`, i, 10);
  ns.set('young', 'v', 10_000);
  ns.set('forever', 'v');
  clock.now += 100;
  t.is(cap.sweepExpired(), 20);
  t.is(cap.sweepExpired(), 0);
  const left = kv.database.prepare('SELECT key FROM kv ORDER BY key').all() as { key: string }[];
  t.deepEqual(
    left.map((r) => r.key),
    ['forever', 'young'],
  );
});

test('sweepExpired stops at max', (t) => {
  const { main: kv, cap, clock } = twoConnections(t);
  for (let i = 0; i < 10; i++) kv.set('p', `k${i}`, i, 1);
  clock.now += 10;
  t.is(cap.sweepExpired(4), 4);
  t.is(cap.sweepExpired(), 6);
});

test('the counts follow set, remember, delete, the sweep and held commits on any connection', (t) => {
  const { main, worker, cap, clock } = twoConnections(t);
  const ns = worker.namespace('p');
  for (let i = 0; i < 10; i++) ns.set(`k${i}`, i, 1_000);
  ns.set('k0', 'again'); // an existing key: no new count
  ns.remember('r', 1, 5_000);
  ns.remember('r', 2, 5_000);
  main.namespace('q').set('only', true);
  t.deepEqual(
    cap.keyCounts(),
    new Map([
      ['p', 11],
      ['q', 1],
    ]),
  );
  ns.delete('k1');
  ns.delete('absent');
  t.is(cap.keyCounts().get('p'), 10);
  worker.hold(() => 'chain');
  for (let i = 0; i < 5; i++) ns.set(`held${i}`, i);
  ns.delete('held0');
  t.is(cap.keyCounts().get('p'), 10, 'held writes count once committed');
  worker.release();
  t.is(cap.keyCounts().get('p'), 14);
  clock.now += 2_000; // k2..k9 expired; k0 has no expiry now
  t.is(cap.sweepExpired(), 8);
  t.deepEqual(
    cap.keyCounts(),
    new Map([
      ['p', 6],
      ['q', 1],
    ]),
  );
});

test('a store migrated by an older build gets the counts of the keys it holds', (t) => {
  const file = databasePath(tempDir(t));
  const old = openDatabase(file);
  migrate(old, 'kv', KV_MIGRATIONS.slice(0, 1));
  const insert = old.prepare('INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, NULL)');
  for (let i = 0; i < 7; i++) insert.run('a', `k${i}`, '1');
  insert.run('b', 'k', '1');
  old.close();
  const db = openDatabase(file);
  t.teardown(() => db.close());
  new KvStore(db);
  t.deepEqual(
    new KvUpkeep(db).keyCounts(),
    new Map([
      ['a', 7],
      ['b', 1],
    ]),
  );
});

test('evict removes the keys closest to expiry first, those without expiry last, one namespace only', (t) => {
  const { main, cap } = twoConnections(t);
  const p = main.namespace('p');
  p.set('forever-b', 1);
  p.set('forever-a', 1);
  for (let i = 0; i < 6; i++) p.set(`t${i}`, i, (6 - i) * 1_000); // t5 expires first
  main.namespace('q').set('soonest', 1, 1);
  t.is(cap.evict('p', 3), 3);
  t.deepEqual(
    ['t0', 't1', 't2', 't3', 't4', 't5'].filter((k) => p.get(k) !== undefined),
    ['t0', 't1', 't2'],
    'the three that would expire first are gone',
  );
  t.is(cap.evict('p', 4), 4);
  t.deepEqual(
    ['t0', 'forever-a', 'forever-b'].filter((k) => p.get(k) !== undefined),
    ['forever-b'],
    'then those without expiry, in key order',
  );
  t.is(main.namespace('q').get('soonest'), 1, 'another namespace is untouched');
  t.deepEqual(
    cap.keyCounts(),
    new Map([
      ['p', 1],
      ['q', 1],
    ]),
  );
});

test('evict deletes at most the batch it is given and never more than the namespace holds', (t) => {
  const { main, cap } = twoConnections(t);
  const p = main.namespace('p');
  for (let i = 0; i < 20; i++) p.set(`k${i}`, i, 60_000 + i);
  t.is(cap.evict('p', 8), 8);
  t.is(cap.evict('p', 100), 12);
  t.is(cap.evict('p', 5), 0);
  t.is(cap.keyCounts().get('p'), undefined, 'a namespace with no keys left is not listed');
});
