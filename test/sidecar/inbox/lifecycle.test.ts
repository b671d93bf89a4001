/**
 * The inbox over its life: a bounded close that keeps undelivered rows for the next start,
 * commits that share the store file with busy pool workers, pruning by age and count, status
 * figures, and a shared database handle left open.
 */
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { silentLogger } from '../../../core/log/logger.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { PluginHost } from '../../../core/plugin-host/plugin-host.js';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { Inbox } from '../../../sidecar/inbox/inbox.js';
import { pruneInbox } from '../../../sidecar/inbox/maintenance.js';
import { startAgent } from '../../helpers/loopback-agent.js';
import { removeDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';
import { fixturePlugin, inbound, rows, sharedHost, startInbox, TOKEN, until } from './inbox-harness.js';

const host = sharedHost();

test('close is bounded: a hanging push is aborted, its row kept, and redelivered after a restart', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.reply({ hang: true });
  const h = await startInbox(t, host(), {
    config: { agent: { mode: 'push', url: agent.url, timeoutMs: 60_000 } },
  });
  h.inbox.routes.inbound(inbound({ text: 'stuck', chat: 'H1' }));
  await agent.waitFor(1);
  const started = Date.now();
  await h.inbox.close(150);
  t.true(Date.now() - started < 5_000, 'close returned within its budget (generously bounded)');
  const again = await h.reopen();
  await until(() => rows(again)[0]?.state === 'delivered');
  t.is(agent.deliveries.length, 2);
  t.is(agent.deliveries[1]?.id, agent.deliveries[0]?.id);
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.attempt),
    [1, 2],
  );
});

test('commits share the store file with pool workers writing it, without lock errors', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-inbox-shared-'));
  t.teardown(() => removeDir(dataDir));
  const manifestPath = join(dataDir, 'plugins.json');
  writeFileSync(manifestPath, JSON.stringify({ apiVersion: 1, plugins: [fixturePlugin('echo')] }));
  // the echo plugin writes the shared store from the workers on every event; enough frames that
  // a worker commits between a read and a write of the inbox (a deferred transaction would fail)
  const own = await PluginHost.load({
    manifestPath,
    config: testConfig({ dataDir, pool: { minThreads: 2, maxThreads: 2, taskTimeoutMs: 5_000 } }),
    log: silentLogger(),
    metrics: new Metrics(),
  });
  t.teardown(() => own.close());
  const h = await startInbox(t, own, { dataDir, start: false });
  for (let i = 0; i < 3000; i++)
    h.inbox.routes.inbound(inbound({ text: `m${i}`, chat: `C${i % 7}`, bufferId: `sh-${i}` }));
  await until(() => h.acks.length === 3000, 30_000, 'all acks');
  t.deepEqual(h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED'), []);
  t.is(rows(h).length, 3000);
  t.true(h.acks.every((a) => a.committedBefore));
});

test('dedupe keys past their cap are pruned within moments, not at the next minute', async (t) => {
  const h = await startInbox(t, host(), { start: false, config: { inbox: { dedupeMaxEntries: 1_000 } } });
  const { store } = h.inbox;
  for (let i = 0; i < 3000; i++)
    h.inbox.routes.inbound(inbound({ text: `m${i}`, chat: `C${i % 7}`, bufferId: `cap-${i}` }));
  await until(() => h.acks.length === 3000, 30_000, 'all acks');
  // the slack is 500 keys (one pruning batch); the first upkeep (5 s) has not run yet
  await until(() => store.dedupe.size <= 1_500, 2_000, 'keys back near the cap');
  t.is(store.db.prepare('SELECT COUNT(*) FROM inbox_dedupe_keys').pluck().get(), store.dedupe.size);
  t.true(store.dedupe.has('buf:cap-2999'), 'the newest keys stay');
  t.false(store.dedupe.has('buf:cap-0'), 'the oldest went first');
});

test('pruning bounds dedupe keys by age and count, and forgets delivered rows past retention', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const { store } = h.inbox;
  const now = 1_000_000;
  for (let i = 0; i < 10; i++) store.dedupe.add(`k${i}`, now - 10_000 + i);
  store.dedupe.add('old', now - 100_000);
  const id = h.inbox.submitInterrupt('agent:main:telegram:dm:C1', null);
  t.not(store.events.markDelivered(id, now - 50_000), undefined);
  // delivered within the retention: kept
  const recent = h.inbox.submitInterrupt('agent:main:telegram:dm:C2', null);
  t.not(store.events.markDelivered(recent, now - 5_000), undefined);
  // attempt counts: one the connector gave up on (older than the dedupe horizon), one in use
  store.attempts.bump('buf-abandoned', now - 100_000);
  store.attempts.bump('buf-retrying', now - 30_000);
  const report = pruneInbox(
    store,
    { dedupeMaxAgeMs: 60_000, dedupeMaxEntries: 4, retainDeliveredMs: 10_000 },
    now,
    silentLogger(),
  );
  t.is(report.dedupe, 7);
  t.false(store.dedupe.has('old'));
  t.false(store.dedupe.has('k5'));
  t.true(store.dedupe.has('k6') && store.dedupe.has('k9'));
  t.is(report.delivered, 1);
  t.false(report.more);
  t.is(store.events.stateOf(id), undefined);
  t.is(store.events.stateOf(recent), 'delivered');
  t.is(report.attempts, 1);
  // the count in use goes on from where it was
  t.is(store.attempts.bump('buf-retrying', now), 2);
  t.is(store.attempts.bump('buf-abandoned', now), 1);
});

test('pruning is bounded per pass: a backlog is removed over several passes, none lost or left', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const { store } = h.inbox;
  const now = 1_000_000;
  for (let i = 0; i < 10; i++) store.dedupe.add(`old-${i}`, now - 100_000 + i);
  const ids = [0, 1, 2, 3, 4].map((i) => h.inbox.submitInterrupt(`agent:main:telegram:dm:P${i}`, null));
  for (const id of ids) t.not(store.events.markDelivered(id, now - 50_000), undefined);
  const limits = { dedupeMaxAgeMs: 60_000, dedupeMaxEntries: 1_000, retainDeliveredMs: 10_000 };
  const passes = [];
  for (let pass = 0; pass < 10; pass++) {
    const report = pruneInbox(store, limits, now, silentLogger(), 3);
    passes.push(report);
    t.true(report.dedupe <= 3 && report.delivered <= 3);
    if (!report.more) break;
  }
  t.true(passes.length >= 4, 'ten keys at three per pass need at least four passes');
  t.is(
    passes.reduce((n, r) => n + r.dedupe, 0),
    10,
  );
  t.is(
    passes.reduce((n, r) => n + r.delivered, 0),
    5,
  );
  for (let i = 0; i < 10; i++) t.false(store.dedupe.has(`old-${i}`));
  for (const id of ids) t.is(store.events.stateOf(id), undefined);
});

test('status figures: backlog, oldest age, retained deliveries, dead letters', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  t.like(h.inbox.stats(), {
    pending: 0,
    oldest_age_s: 0,
    inflight: 0,
    delivered: 0,
    dead: 0,
    dead_letters: [],
  });
  h.inbox.routes.inbound(inbound({ text: 'one', chat: 'S1' }));
  h.inbox.routes.passthrough_forward({
    type: 'passthrough_forward',
    forward: { platform: 'nowhere', botId: '', method: 'POST', path: '/', headers: [], bodyB64: '' },
    bufferId: 'st-1',
  });
  await until(() => h.inbox.stats().pending === 1 && h.inbox.stats().dead === 1);
  const stats = h.inbox.stats();
  t.true(stats.oldest_age_s >= 0);
  t.like(stats.dead_letters[0], { kind: 'frame', code: 'CORE_ERR_PLUGIN_PLATFORM_DISABLED' });
  t.false(Number.isNaN(Date.parse(stats.dead_letters[0]!.created_at)));
});

test('the inbox opens its store with the page cache of inbox.pageCacheMb', async (t) => {
  const h = await startInbox(t, host(), { config: { inbox: { pageCacheMb: 3 } } });
  t.is(h.inbox.store.db.pragma('cache_size', { simple: true }), -3 * 1024);
  const plain = await h.reopen({ config: { agent: { mode: 'pull' } } });
  t.is(plain.inbox.store.db.pragma('cache_size', { simple: true }), -4 * 1024, 'default 4 MiB');
});

test('an inbox on a shared database handle leaves it open on close', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-inbox-db-'));
  t.teardown(() => removeDir(dataDir));
  const db = openDatabase(databasePath(dataDir));
  t.teardown(() => db.close());
  const inbox = Inbox.open({
    config: testConfig({ dataDir }),
    log: silentLogger(),
    metrics: new Metrics(),
    db,
    plugins: host(),
    ack: () => true,
    apiToken: TOKEN,
    executeAction: async () => ({}),
  });
  inbox.submitInterrupt('agent:main:telegram:dm:C1', 'stop');
  await inbox.close(100);
  t.true(db.open);
  t.is(db.prepare('SELECT COUNT(*) FROM inbox_events').pluck().get(), 1);
});

test('dropping dead letters past the cap is all or nothing: a failure midway leaves every row for the next pass', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const { store } = h.inbox;
  const now = 1_000_000;
  // three deliveries the agent rejected: dead rows, each with its dead letter
  const ids = [0, 1, 2].map((i) => h.inbox.submitInterrupt(`agent:main:telegram:dm:D${i}`, null));
  for (const [i, id] of ids.entries()) {
    t.true(store.events.markDead(id, now + i));
    store.deadLetters.add(
      { id, kind: 'delivery', code: 'X', message: 'x', payload: { delivery_id: id } },
      now + i,
    );
  }
  const envelopes = () => store.db.prepare('SELECT COUNT(*) FROM inbox_envelopes').pluck().get();
  const limits = {
    dedupeMaxAgeMs: 60_000,
    dedupeMaxEntries: 1_000,
    retainDeliveredMs: 10_000,
    maxDeadLetters: 1,
  };
  // a real SQLite failure after the first rows went (a full disk fails as late as this)
  store.db.exec(`CREATE TEMP TRIGGER refuse_envelope_delete BEFORE DELETE ON main.inbox_envelopes
    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
  t.throws(() => pruneInbox(store, limits, now, silentLogger()), {
    any: true,
    message: /refused by the test/,
  });
  t.is(store.deadLetters.count(), 3, 'no dead letter dropped');
  t.deepEqual(
    ids.map((id) => store.events.stateOf(id)),
    ['dead', 'dead', 'dead'],
  );
  t.is(envelopes(), 3);

  store.db.exec('DROP TRIGGER temp.refuse_envelope_delete');
  const report = pruneInbox(store, limits, now, silentLogger());
  t.is(report.deadLetters, 2);
  t.deepEqual(
    ids.map((id) => store.events.stateOf(id)),
    [undefined, undefined, 'dead'],
  );
  t.is(envelopes(), 1, 'no envelope left without its row');
});

test('inbox.maxDeadLetters bounds the dead letters the running inbox keeps', async (t) => {
  const h = await startInbox(t, host(), { start: false, config: { inbox: { maxDeadLetters: 2 } } });
  const { store } = h.inbox;
  for (const id of ['dl_1', 'dl_2', 'dl_3', 'dl_4']) {
    store.deadLetters.add({ id, kind: 'frame', code: 'CORE_ERR_X', message: 'x', payload: {} }, Date.now());
  }
  h.inbox.start(); // upkeep's first pass prunes
  t.deepEqual(
    store.deadLetters.list(10).map((d) => d.id),
    ['dl_4', 'dl_3'],
  );
  t.is(h.sink.withCode('CORE_ERR_INBOX_DEAD_LETTERS_DROPPED').length, 1);
});

test('relay_store_bytes shows the store file, its WAL and its free pages', async (t) => {
  const h = await startInbox(t, host(), { maintenanceIntervalMs: 20 });
  h.inbox.submitInterrupt('agent:main:telegram:dm:U1', null);
  const bytes = (part: string) => h.metrics.value('relay_store_bytes', { part });
  await until(
    async () => (await bytes('file')) > 0 && (await bytes('wal')) > 0,
    10_000,
    'the sizes measured',
  );
  t.true((await bytes('free')) >= 0);
});

test('a store file replaced while the inbox runs is reported once, CORE_ERR_STORE_REPLACED', async (t) => {
  const h = await startInbox(t, host(), { maintenanceIntervalMs: 20 });
  const file = databasePath(h.dataDir);
  // a backup put back with mv: a new file at the path, the inbox still on the one it opened
  copyFileSync(file, `${file}.backup`);
  renameSync(`${file}.backup`, file);
  await until(
    () => h.sink.withCode('CORE_ERR_STORE_REPLACED').length > 0,
    10_000,
    'the replacement reported',
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  const [line, ...more] = h.sink.withCode('CORE_ERR_STORE_REPLACED');
  t.is(line?.found, 'another file');
  t.is(more.length, 0, 'reported once');
});
