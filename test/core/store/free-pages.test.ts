/**
 * Giving free pages back on a real file: a new store shrinks once the rows of a drained backlog
 * are pruned (the checkpoint thread's steps), steady churn keeps its few free pages, and a store
 * an older build created (no auto-vacuum) is converted at the inbox's open with its rows, its
 * queue and its dead-letter order kept.
 */
import { statSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { Checkpointer } from '../../../core/store/checkpointer.js';
import { type Database, databasePath, migrate, openDatabase } from '../../../core/store/database.js';
import { pageCounts, RECLAIM_FLOOR_PAGES, reclaimFreePages } from '../../../core/store/free-pages.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { InboxStore } from '../../../sidecar/inbox/inbox-store.js';
import { pruneInbox } from '../../../sidecar/inbox/maintenance.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { sharedHost, startInbox } from '../../sidecar/inbox/inbox-harness.js';

const host = sharedHost();
const ENVELOPE = 'x'.repeat(2_000);
const LIMITS = { dedupeMaxAgeMs: 1e12, dedupeMaxEntries: 1e9, retainDeliveredMs: 1_000 };

/** `count` events committed at `now` and delivered, ids `<prefix><i>`. */
function deliveredBacklog(store: InboxStore, count: number, now: number, prefix = 'dlv_'): void {
  store.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      store.events.insert(
        { id: `${prefix}${i}`, type: 'message', sessionKey: `s${i % 10}`, envelope: ENVELOPE },
        now,
      );
    }
    for (let i = 0; i < count; i++) store.events.markDelivered(`${prefix}${i}`, now);
  })();
}

function pruneAll(store: InboxStore, now: number): void {
  while (pruneInbox(store, LIMITS, now, silentLogger(), 5_000).more);
}

function inboxStore(t: ExecutionContext, db: Database): InboxStore {
  t.teardown(() => db.close());
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  return new InboxStore(db, { maxAttempts: 3 });
}

test('the file of a store drained of a backlog shrinks once its rows are pruned', async (t) => {
  const file = databasePath(tempDir(t));
  const store = inboxStore(t, openDatabase(file));
  deliveredBacklog(store, 10_000, 1_000);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const peak = statSync(file).size;
  t.true(peak > 20_000_000, `the backlog took ${peak} bytes`);
  pruneAll(store, 10_000);
  t.deepEqual(store.events.counts(), { pending: 0, delivered: 0 });
  const checkpointer = Checkpointer.start(file, silentLogger(), new Metrics(), 10);
  t.teardown(() => checkpointer.stop());
  await until(() => statSync(file).size < peak / 4, 60_000, 'the file gave its free pages back', 50);
  t.true(pageCounts(store.db).free <= RECLAIM_FLOOR_PAGES);
});

test('steady churn keeps its free pages: under a quarter of the file is not given back', (t) => {
  const store = inboxStore(t, openDatabase(databasePath(tempDir(t))));
  deliveredBacklog(store, 2_000, 1_000, 'old_');
  deliveredBacklog(store, 10_000, 5_000, 'new_');
  pruneAll(store, 2_500); // the older sixth
  const before = pageCounts(store.db);
  t.true(before.free > RECLAIM_FLOOR_PAGES && before.free * 4 < before.pages, JSON.stringify(before));
  t.is(reclaimFreePages(store.db, 1_000), 0);
  t.is(pageCounts(store.db).pages, before.pages);
});

test('a store an older build created is converted at open, its queue, rows and dead-letter order kept', async (t) => {
  const dataDir = tempDir(t);
  // as builds before this one created it: no auto_vacuum before the WAL header was written
  const old = new BetterSqlite3(databasePath(dataDir));
  old.pragma('journal_mode = WAL');
  migrate(old, 'inbox', INBOX_MIGRATIONS);
  const store = new InboxStore(old, { maxAttempts: 3 });
  deliveredBacklog(store, 5_000, 1_000);
  const pending = store.events.insert(
    { id: 'dlv_pending', type: 'message', sessionKey: 'k', envelope: '{}' },
    2_000,
  );
  for (const id of ['dl_c', 'dl_a', 'dl_b']) {
    store.deadLetters.add({ id, kind: 'frame', code: 'X', message: 'm', payload: {} }, 2_000);
  }
  pruneAll(store, 10_000);
  t.is(pageCounts(old).autoVacuum, 0);
  const freeBefore = pageCounts(old).free;
  t.true(freeBefore > RECLAIM_FLOOR_PAGES);
  old.close();

  const h = await startInbox(t, host(), { dataDir, start: false });
  const db = h.inbox.store.db;
  t.is(pageCounts(db).autoVacuum, 2);
  t.is(pageCounts(db).free, 0);
  t.deepEqual(
    h.inbox.store.events.queued().map((q) => q.id),
    [pending.id],
  );
  t.deepEqual(
    h.inbox.deadLetters().map((d) => d.id),
    ['dl_b', 'dl_a', 'dl_c'],
  );
  const line = h.sink.lines.find((l) => l.msg === 'store converted to give free space back');
  t.truthy(line, 'the conversion is logged');
});
