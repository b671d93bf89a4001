/**
 * The size limits of one store write through the real pool (docs/plugins.md §6): a key past
 * `store.maxKeyBytes` or a value past `store.maxValueBytes` (UTF-8 bytes, the value as JSON) is
 * refused in the worker, by `set` and by `remember`, with a coded error that fails the hook and
 * crosses the thread boundary as `{code, message}`; nothing is written. Real SQLite file, real
 * piscina pool.
 */
import test, { type ExecutionContext } from 'ava';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { type FixtureHost, inboundInput, startFixtureHost } from './fixture-host.js';

const KEY_TOO_LARGE = 'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE';
const VALUE_TOO_LARGE = 'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE';
/** 64 bytes of key (32 `é`), 100 of value as JSON (49 `é` and two quotes). */
const STORE = { store: { maxKeyBytes: 64, maxValueBytes: 100 } };

function start(t: ExecutionContext): Promise<FixtureHost> {
  return startFixtureHost(t, [{ name: 'store-big', timeoutMs: 10_000 }], {}, STORE);
}

/** The number of keys store-big holds, read on another connection. */
function keysHeld(t: ExecutionContext, dataDir: string): number {
  const db = openDatabase(databasePath(dataDir));
  t.teardown(() => db.close());
  new KvStore(db);
  return (db.prepare("SELECT count(*) AS n FROM kv WHERE ns = 'store-big'").get() as { n: number }).n;
}

test('a value past maxValueBytes in UTF-8 fails the hook with its code, by set and by remember', async (t) => {
  const fixture = await start(t);
  for (const how of ['set', 'remember']) {
    // 50 characters: within 100 as characters, 102 bytes as JSON
    const outcome = await fixture.host.runInbound(inboundInput(`${how}:4:50`));
    t.is(outcome.kind, 'failed', how);
    if (outcome.kind !== 'failed') return;
    t.is(outcome.plugin, 'store-big');
    t.is(outcome.error.code, VALUE_TOO_LARGE);
    t.regex(outcome.error.message, /102 bytes as JSON, over store\.maxValueBytes \(100\)/);
  }
  t.is(
    await fixture.metrics.value('relay_plugin_failures_total', {
      plugin: 'store-big',
      code: VALUE_TOO_LARGE,
    }),
    2,
  );
  // the two task failures and the pool's one line about the refusals (store-refusals.test.ts)
  t.is(await fixture.metrics.value('relay_errors_total', { code: VALUE_TOO_LARGE }), 3);
  t.is(keysHeld(t, fixture.dataDir), 0, 'nothing written');
});

test('a key past maxKeyBytes in UTF-8 fails the hook with its code', async (t) => {
  const fixture = await start(t);
  const outcome = await fixture.host.runInbound(inboundInput('set:33:1'));
  t.like(outcome, { kind: 'failed', error: { code: KEY_TOO_LARGE } });
  if (outcome.kind === 'failed') t.regex(outcome.error.message, /66 bytes, over store\.maxKeyBytes \(64\)/);
  t.is(keysHeld(t, fixture.dataDir), 0);
});

test('writes within both limits pass, and a hook may catch a refusal by its code', async (t) => {
  const fixture = await start(t);
  t.is((await fixture.host.runInbound(inboundInput('set:32:49'))).kind, 'event');
  t.is((await fixture.host.runInbound(inboundInput('remember:31:49'))).kind, 'event');
  t.like(await fixture.host.runInbound(inboundInput('caught:1:60')), {
    kind: 'dropped',
    reason: VALUE_TOO_LARGE,
  });
  t.is(keysHeld(t, fixture.dataDir), 2);
});
