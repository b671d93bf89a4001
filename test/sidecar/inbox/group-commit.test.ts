/**
 * Group commit of delivery bookkeeping on a real SQLite file: the batcher's pacing (idle writes
 * next turn, busy writes at most once per interval, a full queue at once) and the ledger (an
 * attempt starts with a read; its count is saved with the next commit; numbers keep rising
 * across retries before that commit lands).
 */
import test, { type ExecutionContext } from 'ava';
import { silentLogger } from '../../../core/log/logger.js';
import { MessageEventSchema } from '../../../core/protocol/payloads.js';
import { migrate } from '../../../core/store/database.js';
import { deliveryLedger } from '../../../sidecar/inbox/delivery-ledger.js';
import { encodeMessageEnvelope, newDeliveryId } from '../../../sidecar/inbox/envelope.js';
import { FreshEnvelopes } from '../../../sidecar/inbox/fresh-envelopes.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { InboxStore } from '../../../sidecar/inbox/inbox-store.js';
import { WriteBatcher } from '../../../sidecar/inbox/write-batcher.js';
import { tempDatabase } from '../../helpers/temp-db.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('idle writes commit on the next turn; under load commits are spaced by the interval', async (t) => {
  const db = tempDatabase(t);
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const count = () => db.prepare('SELECT COUNT(*) FROM t').pluck().get();
  const clock = { now: 1_000 };
  const batcher = new WriteBatcher(db, { intervalMs: 60_000, maxBatch: 3, now: () => clock.now });
  t.teardown(() => batcher.close());

  await batcher.run(() => insert.run(1));
  t.is(count(), 1, 'idle: committed on the next turn');

  const second = batcher.run(() => insert.run(2));
  for (let i = 0; i < 5; i++) await turn();
  t.is(count(), 1, 'right after a commit, the next one waits for the interval');
  t.is(batcher.queued, 1);

  // a full queue does not wait
  const more = [batcher.run(() => insert.run(3)), batcher.run(() => insert.run(4))];
  await Promise.all([second, ...more]);
  t.is(count(), 4);

  clock.now += 60_000;
  await batcher.run(() => insert.run(5));
  t.is(count(), 5, 'the interval passed: idle again');
});

test('interval 0 commits every turn', async (t) => {
  const db = tempDatabase(t);
  db.exec('CREATE TABLE t (v INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const batcher = new WriteBatcher(db, { intervalMs: 0 });
  for (let v = 0; v < 3; v++) await batcher.run(() => insert.run(v));
  t.is(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 3);
  batcher.close();
});

/** An inbox store with one pending row, and a ledger over a batcher. */
function ledgerWithRow(t: ExecutionContext) {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const store = new InboxStore(db, { maxAttempts: 5 });
  // synchronous tests: nothing commits until they call flush()
  const batcher = new WriteBatcher(db, { intervalMs: 60_000, now: () => 0 });
  const ledger = deliveryLedger({ store, batcher, now: () => 5_000, log: silentLogger() });
  const id = newDeliveryId();
  const event = MessageEventSchema.parse({ text: 'hi', source: { platform: 'discord', chat_id: 'C1' } });
  const envelope = encodeMessageEnvelope(id, 'k', 1_000, event, [], { frame: 'inbound' });
  store.events.insert({ id, type: 'message', sessionKey: 'k', envelope }, 1_000);
  const saved = () => db.prepare('SELECT attempt FROM inbox_events WHERE id = ?').pluck().get(id);
  return { db, store, batcher, ledger, id, saved };
}

test('an attempt starts with a read; its count is saved with the next group commit', (t) => {
  const { ledger, batcher, id, saved } = ledgerWithRow(t);
  const first = ledger.begin(id);
  t.is(JSON.parse(first ?? '{}').attempt, 1);
  t.is(saved(), 0, 'not written yet: the send does not wait for it');
  const second = ledger.begin(id);
  t.is(JSON.parse(second ?? '{}').attempt, 2, 'a retry before the commit still counts up');
  batcher.flush();
  t.is(saved(), 2);
  batcher.close();
});

test('a delivery answered before the next commit saves its attempt with the delivered mark: one row update', async (t) => {
  const { db, ledger, batcher, id, saved } = ledgerWithRow(t);
  const changes = () => db.prepare('SELECT total_changes()').pluck().get() as number;
  const before = changes();
  t.is(JSON.parse(ledger.begin(id) ?? '{}').attempt, 1);
  const delivered = ledger.delivered(id);
  batcher.flush();
  t.is(await delivered, 1_000);
  t.is(saved(), 1, 'the count is saved all the same');
  t.is(db.prepare('SELECT state FROM inbox_events WHERE id = ?').pluck().get(id), 'delivered');
  t.is(changes() - before, 1, 'one update: the attempt rode on the delivered mark');
  batcher.close();
});

test('delivered rows are no longer deliverable; a later process continues from the saved count', async (t) => {
  const { db, store, batcher, ledger, id, saved } = ledgerWithRow(t);
  ledger.begin(id);
  ledger.begin(id);
  batcher.flush();
  // a new process (new ledger, nothing in memory) continues from the saved count
  const again = deliveryLedger({ store, batcher, now: () => 6_000, log: silentLogger() });
  t.is(JSON.parse(again.begin(id) ?? '{}').attempt, 3);
  const delivered = again.delivered(id);
  batcher.flush();
  t.is(await delivered, 1_000, 'resolves with the commit time once durable');
  t.is(again.begin(id), undefined);
  t.is(saved(), 3);
  t.is(db.prepare('SELECT state FROM inbox_events WHERE id = ?').pluck().get(id), 'delivered');
  batcher.close();
});

test('fresh envelopes: first attempt from memory, later ones from the store; bounded, oldest out first', (t) => {
  const { store, batcher, id, saved } = ledgerWithRow(t);
  const fresh = new FreshEnvelopes(2_000);
  const ledger = deliveryLedger({ store, batcher, fresh, now: () => 5_000, log: silentLogger() });
  const stored = store.events.peek(id)?.envelope ?? '';
  // what the cache holds is what is sent: mark it so the test can tell the two sources apart
  fresh.add([{ id }], [stored.replace('"text":"hi"', '"text":"from memory"')]);
  t.is(fresh.size, 1);
  t.like(JSON.parse(ledger.begin(id) ?? '{}'), { attempt: 1, event: { text: 'from memory' } });
  t.is(fresh.size, 0, 'taken by the first attempt');
  t.like(JSON.parse(ledger.begin(id) ?? '{}'), { attempt: 2, event: { text: 'hi' } });
  batcher.flush();
  t.is(saved(), 2);

  fresh.add([{ id: 'a' }, { id: 'b' }], ['x'.repeat(400), 'y'.repeat(400)]);
  fresh.add([{ id: 'c' }], ['z'.repeat(400)]);
  t.is(fresh.size, 2, '3 × 800 bytes over a 2 000-byte budget: the oldest is dropped');
  t.is(fresh.take('a'), undefined);
  t.is(fresh.take('c')?.length, 400);
  batcher.close();
});
