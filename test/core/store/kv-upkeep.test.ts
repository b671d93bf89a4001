/**
 * The per-namespace key and byte counts (kept by the `kv` schema's triggers, so reading them costs
 * no scan) and the eviction past a cap (docs/plugins.md §6, "At most `store.maxKeysPerPlugin`
 * keys", "`store.maxBytesPerPlugin` bytes"), on a real SQLite file, with two connections as the
 * main thread and a worker have, and on a file an older build created.
 */
import test from 'ava';
import { databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { KV_MIGRATIONS } from '../../../core/store/kv-migrations.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { KvUpkeep } from '../../../core/store/kv-upkeep.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** Keys and bytes per namespace counted from the rows themselves, as the counts must keep them. */
function recount(kv: KvStore): Map<string, { keys: number; bytes: number }> {
  const rows = kv.database
    .prepare(
      `SELECT ns, count(*) AS keys, sum(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))) AS bytes
       FROM kv GROUP BY ns ORDER BY ns`,
    )
    .all() as { ns: string; keys: number; bytes: number }[];
  return new Map(rows.map((r) => [r.ns, { keys: r.keys, bytes: r.bytes }]));
}

/** Keys per namespace, as the counts keep them. */
const keyCounts = (cap: KvUpkeep) => new Map([...cap.counts()].map(([ns, size]) => [ns, size.keys]));

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
    keyCounts(cap),
    new Map([
      ['p', 11],
      ['q', 1],
    ]),
  );
  ns.delete('k1');
  ns.delete('absent');
  t.is(keyCounts(cap).get('p'), 10);
  worker.hold(() => 'chain');
  for (let i = 0; i < 5; i++) ns.set(`held${i}`, i);
  ns.delete('held0');
  t.is(keyCounts(cap).get('p'), 10, 'held writes count once committed');
  worker.release();
  t.is(keyCounts(cap).get('p'), 14);
  clock.now += 2_000; // k2..k9 expired; k0 has no expiry now
  t.is(cap.sweepExpired(), 8);
  t.deepEqual(
    keyCounts(cap),
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
    keyCounts(new KvUpkeep(db)),
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
  t.is(cap.evict('p', 3).keys, 3);
  t.deepEqual(
    ['t0', 't1', 't2', 't3', 't4', 't5'].filter((k) => p.get(k) !== undefined),
    ['t0', 't1', 't2'],
    'the three that would expire first are gone',
  );
  t.is(cap.evict('p', 4).keys, 4);
  t.deepEqual(
    ['t0', 'forever-a', 'forever-b'].filter((k) => p.get(k) !== undefined),
    ['forever-b'],
    'then those without expiry, in key order',
  );
  t.is(main.namespace('q').get('soonest'), 1, 'another namespace is untouched');
  t.deepEqual(
    keyCounts(cap),
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
  t.is(cap.evict('p', 8).keys, 8);
  t.is(cap.evict('p', 100).keys, 12);
  t.is(cap.evict('p', 5).keys, 0);
  t.is(keyCounts(cap).get('p'), undefined, 'a namespace with no keys left is not listed');
});

test('the byte counts follow every kind of write: new keys, resized values, held commits, deletes, sweeps, evictions', (t) => {
  const { main, worker, cap, clock } = twoConnections(t);
  const ns = worker.namespace('p');
  ns.set('é', 'ü', 1_000); // 2 bytes of key, 4 of value
  t.deepEqual(cap.counts().get('p'), { keys: 1, bytes: 6 });
  ns.set('é', 'a longer value'); // resized in place: an upsert
  ns.remember('r', { n: 1 }, 60_000);
  ns.remember('r', { n: 100 }, 60_000); // changed and resized
  ns.remember('r', { n: 200 }, 60_000); // changed, same size
  worker.hold(() => 'chain');
  for (let i = 0; i < 30; i++) ns.set(`held${i}`, 'x'.repeat(i), i % 2 ? 500 : undefined);
  ns.set('held3', '🙂🙂');
  ns.delete('held4');
  worker.release();
  main.namespace('q').set('k', [1, 2, 3]);
  t.deepEqual(cap.counts(), recount(main));
  clock.now += 600; // the odd held keys expire, but held3 (set again without a TTL)
  t.is(cap.sweepExpired(), 14);
  t.deepEqual(cap.counts(), recount(main));
  t.like(cap.evict('p', 3), { keys: 3 });
  t.deepEqual(cap.counts(), recount(main));
});

test('evict frees at least the bytes asked, closest to expiry first, within its batch', (t) => {
  const { main, cap } = twoConnections(t);
  const p = main.namespace('p');
  for (let i = 0; i < 10; i++) p.set(`t${i}`, 'x'.repeat(98), 60_000 + i); // 102 bytes each
  p.set('forever', 'x'.repeat(98));
  t.deepEqual(cap.evict('p', 100, { keys: 0, bytes: 250 }), { keys: 3, bytes: 306 });
  t.is(p.get('t2'), undefined);
  t.truthy(p.get('t3'));
  t.deepEqual(cap.evict('p', 2, { keys: 0, bytes: 10_000 }), { keys: 2, bytes: 204 }, 'the batch bounds it');
  t.deepEqual(cap.evict('p', 100, { keys: 1, bytes: 1 }), { keys: 1, bytes: 102 });
  t.deepEqual(cap.evict('p', 1), { keys: 1, bytes: 102 }, 'asked for keys only, the bytes are told too');
  t.deepEqual(
    cap.evict('p', 100, { keys: 0, bytes: 10_000 }),
    { keys: 4, bytes: 3 * 102 + 7 + 100 },
    'then the lasting',
  );
  t.deepEqual(cap.counts().get('p'), undefined);
});

test('a store at schema version 2 (an older build) migrates in place with the bytes it holds', (t) => {
  const file = databasePath(tempDir(t));
  // the older build's migrations and its own writes, through its triggers
  const old = openDatabase(file);
  t.is(migrate(old, 'kv', KV_MIGRATIONS.slice(0, 2)), 2);
  const upsert = old.prepare(
    `INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
  );
  for (let i = 0; i < 50; i++) upsert.run('a', `chat:${i}`, JSON.stringify({ scope: 'G'.repeat(i) }), 1e13);
  upsert.run('a', 'chat:1', JSON.stringify('ünïcödé'), null);
  upsert.run('b', '键', JSON.stringify('值'), null);
  old.prepare("DELETE FROM kv WHERE key = 'chat:2'").run();
  old.close();
  const db = openDatabase(file);
  t.teardown(() => db.close());
  const kv = new KvStore(db);
  t.is(
    (db.prepare("SELECT version FROM schema_migrations WHERE name = 'kv'").get() as { version: number })
      .version,
    KV_MIGRATIONS.length,
  );
  const upkeep = new KvUpkeep(db);
  t.deepEqual(upkeep.counts(), recount(kv));
  t.deepEqual(upkeep.counts().get('b'), { keys: 1, bytes: 3 + 5 });
  // and the new triggers keep them from there
  kv.set('a', 'chat:3', 'short');
  kv.delete('a', 'chat:4');
  kv.set('b', 'new', 1);
  t.deepEqual(upkeep.counts(), recount(kv));
});
