/**
 * The per-plugin key cap through the real pool and host (docs/plugins.md §6): a plugin that keeps
 * a key per event is held to `store.maxKeysPerPlugin` by the store upkeep, which evicts the keys
 * closest to expiry, warns once per episode, and shows the counts; a built-in plugin beside it
 * keeps its state. Real SQLite file, real piscina pool; the upkeep runs every 20 ms here.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { databasePath, openDatabase } from '../../../core/store/database.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { until } from '../../helpers/until.js';
import { type FixtureHost, inboundInput, startFixtureHost } from './fixture-host.js';

const CAP = 50;
const CAPPED = 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED';
const STORE = { store: { maxKeysPerPlugin: CAP, upkeepIntervalMs: 20 } };

/** The built-in scope-reattacher, by its compiled file. */
const SCOPE_REATTACHER = {
  name: 'scope-reattacher',
  module: join(repoRoot(), 'dist', 'plugins', 'scope-reattacher', 'index.js'),
  timeoutMs: 10_000,
};

/** Another connection to the host's store, as another thread would have. */
function reader(t: ExecutionContext, dataDir: string): (ns: string, key: string) => unknown {
  const db = openDatabase(databasePath(dataDir));
  t.teardown(() => db.close());
  const kv = new KvStore(db);
  return (ns, key) => kv.get(ns, key);
}

/** Keys `k<from>` … `k<to - 1>` of store-flood that `read` finds. */
function present(read: (ns: string, key: string) => unknown, from: number, to: number): number {
  let found = 0;
  for (let i = from; i < to; i++) if (read('store-flood', `k${i}`) !== undefined) found++;
  return found;
}

/** Run one inbound event and require that every chain passed it on. */
async function inbound(t: ExecutionContext, fixture: FixtureHost, text: string): Promise<void> {
  t.is((await fixture.host.runInbound(inboundInput(text))).kind, 'event');
}

const keys = (fixture: FixtureHost, plugin: string) =>
  fixture.metrics.value('relay_plugin_store_keys', { plugin });
const evicted = (fixture: FixtureHost) =>
  fixture.metrics.value('relay_plugin_store_keys_evicted_total', { plugin: 'store-flood' });

test('a plugin past the cap is held to it, keeping the keys that expire last; the built-in beside it keeps its state', async (t) => {
  const fixture = await startFixtureHost(
    t,
    [{ name: 'store-flood', timeoutMs: 10_000 }, SCOPE_REATTACHER],
    {},
    STORE,
  );
  const read = reader(t, fixture.dataDir);
  await inbound(t, fixture, 'flood:0:200');
  await until(
    async () => (await keys(fixture, 'store-flood')) === CAP,
    10_000,
    'store-flood held to the cap',
  );
  t.is(present(read, 0, 150), 0, 'the 150 closest to expiry are gone');
  t.is(present(read, 150, 200), CAP, 'the 50 that expire last are kept');
  t.is(await evicted(fixture), 150);
  t.truthy(read('scope-reattacher', 'chat:c1'), "scope-reattacher's memory of the chat is kept");
  t.is(await keys(fixture, 'scope-reattacher'), 1);
  const warnings = fixture.sink.withCode(CAPPED);
  t.is(warnings.length, 1, 'one warning for the episode');
  t.like(warnings[0], { plugin: 'store-flood', keys: 200, maxKeys: CAP });
  t.is(await fixture.metrics.value('relay_errors_total', { code: CAPPED }), 1);
});

test('one warning per episode: an episode ends when a pass finds the plugin within the cap', async (t) => {
  const fixture = await startFixtureHost(t, [{ name: 'store-flood', timeoutMs: 10_000 }], {}, STORE);
  const read = reader(t, fixture.dataDir);
  await inbound(t, fixture, 'flood:0:80');
  const back = await fixture.sink.waitFor((l) => l.msg === 'plugin store back within its key cap', 10_000);
  t.like(back, { plugin: 'store-flood', keys: CAP, maxKeys: CAP, evicted: 30 });
  // over the cap again after a pass found it within: a new episode
  await inbound(t, fixture, 'flood:80:60');
  // the gauge still shows the count before this event: wait for the evictions themselves
  await until(async () => (await evicted(fixture)) === 30 + 60, 10_000, 'held to the cap again');
  t.is(present(read, 0, 140), CAP);
  t.is(present(read, 90, 140), CAP, 'the newest 50 kept');
  t.is(fixture.sink.withCode(CAPPED).length, 2, 'a second episode, a second warning');
});

test('a plugin within the cap loses nothing and is not warned about', async (t) => {
  const fixture = await startFixtureHost(t, [{ name: 'store-flood', timeoutMs: 10_000 }], {}, STORE);
  const read = reader(t, fixture.dataDir);
  await inbound(t, fixture, `flood:0:${CAP}`);
  // the pass that shows the count has decided: a pass evicts right after counting
  await until(async () => (await keys(fixture, 'store-flood')) === CAP, 10_000, 'the count shown');
  t.is(present(read, 0, CAP), CAP);
  t.is(fixture.sink.withCode(CAPPED).length, 0);
  t.is(await fixture.metrics.value('relay_plugin_store_keys_evicted_total'), 0);
});

test('a plugin past the byte cap is held to it, keeping the keys that expire last', async (t) => {
  // 200 keys k0-k199 holding their number: 3 bytes each to k9, 5 to k99, 7 from k100: 1 180 in all
  const store = { maxKeysPerPlugin: 1_000, maxBytesPerPlugin: 600, maxKeyBytes: 16, maxValueBytes: 16 };
  const fixture = await startFixtureHost(
    t,
    [{ name: 'store-flood', timeoutMs: 10_000 }],
    {},
    {
      store: { ...store, upkeepIntervalMs: 20 },
    },
  );
  const read = reader(t, fixture.dataDir);
  await inbound(t, fixture, 'flood:0:200');
  const back = await fixture.sink.waitFor((l) => l.msg === 'plugin store back within its byte cap', 10_000);
  t.true((back.bytes as number) <= 600);
  t.is(present(read, 0, 100), 0, 'those closest to expiry are gone');
  t.is(present(read, 115, 200), 85, 'the 85 that expire last (7 bytes each) are kept');
  t.like(fixture.sink.withCode('CORE_ERR_PLUGIN_STORE_BYTES_CAPPED')[0], {
    plugin: 'store-flood',
    keys: 200,
    bytes: 1_180,
    maxBytes: 600,
  });
  t.is(fixture.sink.withCode(CAPPED).length, 0, 'within the key cap');
});

test("a namespace no manifest entry names (a removed plugin's) is shown and capped under (other)", async (t) => {
  const fixture = await startFixtureHost(t, [{ name: 'store-flood', timeoutMs: 10_000 }], {}, STORE);
  const db = openDatabase(databasePath(fixture.dataDir));
  t.teardown(() => db.close());
  const removed = new KvStore(db);
  for (let i = 0; i < CAP + 5; i++) removed.set('removed-plugin', `k${i}`, i, 3_600_000 + i);
  await inbound(t, fixture, 'flood:0:3');
  // one pass may evict before the flood's writes commit: wait for a pass that saw both
  await until(
    async () => (await keys(fixture, '(other)')) === CAP && (await keys(fixture, 'store-flood')) === 3,
    10_000,
    'the removed plugin held to the cap, the flood counted',
  );
  t.is(await keys(fixture, 'removed-plugin'), 0, 'no series of its own');
  t.is(await fixture.metrics.value('relay_plugin_store_keys_evicted_total', { plugin: '(other)' }), 5);
  t.true((await fixture.metrics.value('relay_plugin_store_bytes', { plugin: 'store-flood' })) > 0);
});
