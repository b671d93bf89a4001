/**
 * The inbox schema on a real file: a store created by the first schema version upgrades in place,
 * the per-minute upkeep and status queries run on indexes (a whole-table walk of ~1 GB stalled the
 * read loop for seconds: benchmarks F6), and the dedupe count stays exact without COUNT(*).
 */
import test from 'ava';
import { migrate } from '../../../core/store/database.js';
import { DedupeTable } from '../../../sidecar/inbox/dedupe-table.js';
import { EventTable } from '../../../sidecar/inbox/event-table.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { tempDatabase } from '../../helpers/temp-db.js';

test('a store of the first schema version upgrades in place, rows and their states kept', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS.slice(0, 1));
  const v1 = new EventTable(db);
  const pending = v1.insert(
    { id: 'dlv_p', type: 'message', sessionKey: 'k', envelope: '{"attempt":0,}' },
    1_000,
  );
  v1.insert({ id: 'dlv_d', type: 'message', sessionKey: 'k', envelope: '{"attempt":0,}' }, 1_000);
  t.is(v1.markDelivered('dlv_d', 2_000), 1_000);

  t.is(migrate(db, 'inbox', INBOX_MIGRATIONS), INBOX_MIGRATIONS.length - 1);
  const v2 = new EventTable(db);
  t.deepEqual(
    v2.queued().map((q) => q.id),
    [pending.id],
  );
  t.deepEqual(v2.counts(), { pending: 1, delivered: 1 });
  t.is(v2.pruneDelivered(2_001, 10), 1);
  t.deepEqual(v2.counts(), { pending: 1, delivered: 0 });
});

test('upkeep and status queries use the partial indexes, never a table scan', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const plan = (sql: string, ...args: unknown[]) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
      .map((r) => r.detail)
      .join('; ');
  t.regex(
    plan(
      `SELECT seq FROM inbox_events WHERE state = 'delivered' AND updated_at < ? ORDER BY updated_at LIMIT ?`,
      1,
      1,
    ),
    /INDEX inbox_events_delivered/,
  );
  t.regex(plan(`SELECT COUNT(*) FROM inbox_events WHERE state = 'pending'`), /INDEX inbox_events_pending/);
  t.regex(
    plan(`SELECT COUNT(*) FROM inbox_events WHERE state = 'delivered'`),
    /INDEX inbox_events_delivered/,
  );
  t.regex(
    plan(`SELECT id FROM inbox_dead_letters WHERE replay_requested = 1 ORDER BY created_at`),
    /INDEX inbox_dead_letters_replay/,
  );
});

test('the dedupe count stays exact across adds, repeats and pruning passes', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const dedupe = new DedupeTable(db);
  const total = () => db.prepare('SELECT COUNT(*) FROM inbox_dedupe_keys').pluck().get();
  for (let i = 0; i < 10; i++) dedupe.add(`a${i}`, 1_000 + i);
  t.is(dedupe.prune(2_000, 60_000, 4, 100), 6);
  t.is(total(), 4);
  for (let i = 0; i < 5; i++) dedupe.add(`b${i}`, 3_000 + i);
  dedupe.add('b0', 4_000); // already known: not counted twice
  t.is(dedupe.prune(5_000, 60_000, 4, 2), 2, 'bounded per pass');
  t.is(dedupe.prune(5_000, 60_000, 4, 2), 2);
  t.is(dedupe.prune(5_000, 60_000, 4, 2), 1);
  t.is(dedupe.prune(5_000, 60_000, 4, 2), 0);
  t.is(total(), 4);
  // the four newest stay; b0 kept its first time when it was added again, so it went first
  t.deepEqual(
    ['b0', 'b1', 'b4', 'a9'].map((k) => dedupe.has(k)),
    [false, true, true, false],
  );
});

test('dedupe keys of the keyed table (schema 2) move to the arrival-ordered table and are known', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS.slice(0, 2));
  const put = db.prepare('INSERT INTO inbox_dedupe (key, created_at) VALUES (?, ?)');
  for (const [key, at] of [
    ['buf:b2', 2_000],
    ['evt:discord:C:m1', 1_000],
    ['buf:b3', 3_000],
  ] as const)
    put.run(key, at);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  t.deepEqual(db.prepare('SELECT key FROM inbox_dedupe_keys ORDER BY seq').pluck().all(), [
    'evt:discord:C:m1',
    'buf:b2',
    'buf:b3',
  ]);
  const dedupe = new DedupeTable(db);
  t.true(dedupe.has('buf:b2') && dedupe.has('evt:discord:C:m1') && dedupe.has('buf:b3'));
  t.false(dedupe.has('buf:b4'));
  t.is(dedupe.size, 3);
  // pruning still goes by time: the oldest (m1) first
  t.is(dedupe.prune(10_000, 60_000, 2, 10), 1);
  t.false(dedupe.has('evt:discord:C:m1'));
});

test('dedupe keys added by a transaction that rolls back are forgotten; committed ones stay, across a restart', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const dedupe = new DedupeTable(db);
  const commit = db.transaction((keys: string[], fail: boolean) => {
    for (const key of keys) dedupe.add(key, 1_000);
    if (fail) throw new Error('disk full');
  });
  dedupe.track(() => commit(['a', 'b'], false));
  t.throws(() => dedupe.track(() => commit(['c', 'a', 'd'], true)), { message: 'disk full' });
  t.deepEqual(
    ['a', 'b', 'c', 'd'].map((k) => dedupe.has(k)),
    [true, true, false, false],
  );
  // "c" was never stored, so it is new now; the table and memory agree
  t.true(dedupe.add('c', 2_000));
  const reopened = new DedupeTable(db);
  t.deepEqual(
    ['a', 'b', 'c', 'd'].map((k) => reopened.has(k)),
    [true, true, true, false],
  );
  t.is(reopened.size, 3);
  t.is(db.prepare('SELECT COUNT(*) FROM inbox_dedupe_keys').pluck().get(), 3);
});

test('dedupe ages skip a forward step of the wall clock and keep counting the time that really passed', (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const dedupe = new DedupeTable(db);
  const week = 7 * 24 * 3_600_000;
  const t0 = 1_800_000_000_000;
  dedupe.observeClock(t0, 0);
  dedupe.add('before', t0);
  // the wall clock jumps two weeks within one second of monotonic time
  dedupe.observeClock(t0 + 2 * week, 1_000);
  t.is(dedupe.clockSkewMs, 2 * week - 1_000);
  t.is(dedupe.prune(t0 + 2 * week, week, 100, 100), 0, 'the step is no age');
  dedupe.add('after', t0 + 2 * week);
  // a real week later (both clocks move alike) the key from before the step is past the age
  const later = t0 + 3 * week;
  dedupe.observeClock(later, week + 1_000);
  t.is(dedupe.prune(later, week, 100, 100), 1);
  t.deepEqual([dedupe.has('before'), dedupe.has('after')], [false, true]);
  // reopened: the time since the newest key is not counted (a stop and a step look alike)
  const reopened = new DedupeTable(db);
  reopened.observeClock(later + 3 * week, 0);
  t.is(reopened.prune(later + 3 * week, week, 100, 100), 0);
  t.true(reopened.has('after'));
});
