/**
 * The store upkeep's passes on a real SQLite file (the host runs them on a timer; here the test
 * runs each pass itself, so what a pass sees is decided by the test): each cap's warning is logged
 * once per episode however many passes find the plugin over, the byte cap evicts the keys closest
 * to expiry until the bytes fit, and a sweep or an eviction larger than one turn's batch goes on
 * across turns within its pass.
 */
import test, { type ExecutionContext } from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import {
  EVICT_BATCH,
  OTHER_NAMESPACES,
  StoreUpkeep,
  SWEEP_BATCH,
} from '../../../core/plugin-host/store-upkeep.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { KvUpkeep } from '../../../core/store/kv-upkeep.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDatabase } from '../../helpers/temp-db.js';

const CAPPED = 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED';
const BACK = 'plugin store back within its key cap';
const BYTES_CAPPED = 'CORE_ERR_PLUGIN_STORE_BYTES_CAPPED';
const BYTES_BACK = 'plugin store back within its byte cap';

/**
 * An upkeep with `maxKeysPerPlugin` and `maxBytesPerPlugin` on a fresh file, its timer too slow
 * to run in a test.
 */
function upkeepOf(t: ExecutionContext, maxKeysPerPlugin: number, maxBytesPerPlugin = 1 << 30) {
  const db = tempDatabase(t);
  const kv = new KvStore(db);
  const sink = createLogSink();
  const metrics = new Metrics();
  const upkeep = new StoreUpkeep(
    new KvUpkeep(db),
    { maxKeysPerPlugin, maxBytesPerPlugin, upkeepIntervalMs: 3_600_000 },
    sink.logger,
    metrics,
    ['p', 'q'],
  );
  t.teardown(() => upkeep.close());
  let next = 0;
  /**
   * Add `n` keys to namespace `p`, each expiring later than the one before; with `chars`, each
   * holds a string of that many characters (`chars + 2` bytes of JSON).
   */
  const add = (n: number, chars?: number) => {
    for (let i = 0; i < n; i++, next++) {
      kv.set('p', `k${next}`, chars === undefined ? next : 'x'.repeat(chars), 3_600_000 + next);
    }
  };
  const keys = () => metrics.value('relay_plugin_store_keys', { plugin: 'p' });
  const held = () => kv.database.prepare("SELECT key FROM kv WHERE ns = 'p' ORDER BY expires_at").all();
  return { upkeep, sink, metrics, add, keys, held, kv };
}

test('one warning per episode: passes that find the plugin over again stay in it', async (t) => {
  const { upkeep, sink, add, keys } = upkeepOf(t, 5);
  add(8);
  await upkeep.pass();
  t.is(await keys(), 5);
  add(3);
  await upkeep.pass();
  add(1);
  await upkeep.pass();
  t.is(await keys(), 5);
  t.is(sink.withCode(CAPPED).length, 1, 'three passes over the cap, one episode');
  t.is(sink.withMsg(BACK).length, 0);
  await upkeep.pass();
  t.like(sink.withMsg(BACK)[0], { plugin: 'p', keys: 5, maxKeys: 5, evicted: 3 + 3 + 1 });
  add(2);
  await upkeep.pass();
  t.is(sink.withCode(CAPPED).length, 2, 'over again after a pass within: a second episode');
});

test('past the byte cap, the keys closest to expiry are evicted until the bytes fit; one warning per episode', async (t) => {
  // each key: 'kN' (2-3 bytes) and 100 bytes of JSON; 10 keys of 2 bytes and 10 of 3: 2 050 bytes
  const { upkeep, sink, metrics, add, held } = upkeepOf(t, 100, 1_700);
  add(20, 98);
  await upkeep.pass();
  // 2 050 - 1 700 = 350 to free: four keys of 102 bytes (k0-k3), the four that expire first
  t.deepEqual(
    held().map((r) => (r as { key: string }).key),
    Array.from({ length: 16 }, (_, i) => `k${i + 4}`),
  );
  t.is(await metrics.value('relay_plugin_store_keys_evicted_total', { plugin: 'p' }), 4);
  const [warning] = sink.withCode(BYTES_CAPPED);
  t.like(warning, { plugin: 'p', keys: 20, bytes: 2_050, maxBytes: 1_700, level: 40 });
  t.is(sink.withCode(CAPPED).length, 0, 'within the key cap: no key warning');
  add(1, 98);
  await upkeep.pass();
  t.is(sink.withCode(BYTES_CAPPED).length, 1, 'still the same episode');
  await upkeep.pass();
  t.like(sink.withMsg(BYTES_BACK)[0], { plugin: 'p', maxBytes: 1_700, evicted: 5 });
  t.is(await metrics.value('relay_errors_total', { code: BYTES_CAPPED }), 1);
});

test('a plugin over both caps is brought within both, with a warning for each', async (t) => {
  const { upkeep, sink, add, held } = upkeepOf(t, 10, 2_000);
  add(12); // small keys: over the key cap by two
  add(20, 98); // 20 keys of ~103 bytes: over the byte cap
  await upkeep.pass();
  const left = held() as { key: string }[];
  t.true(left.length <= 10);
  t.true(left.length >= 1);
  t.is(left.at(-1)?.key, 'k31', 'the key that expires last is kept');
  t.is(sink.withCode(CAPPED).length, 1);
  t.is(sink.withCode(BYTES_CAPPED).length, 1);
  await upkeep.pass();
  t.is(sink.withMsg(BACK).length, 1);
  t.is(sink.withMsg(BYTES_BACK).length, 1);
});

test('an eviction larger than one batch goes on across turns, within its pass', async (t) => {
  const { upkeep, metrics, add, keys } = upkeepOf(t, 10);
  add(EVICT_BATCH * 2 + 10 + 7);
  const pass = upkeep.pass();
  t.is(upkeep.pass(), pass, 'a pass while one is evicting settles with it');
  await pass;
  t.is(await keys(), 10);
  t.is(await metrics.value('relay_plugin_store_keys_evicted_total', { plugin: 'p' }), EVICT_BATCH * 2 + 7);
});

test("the metrics' plugin label is a manifest name or (other): namespaces of no plugin are summed", async (t) => {
  const { upkeep, metrics, kv } = upkeepOf(t, 2);
  kv.set('p', 'a', 'é'); // 1 + 4 bytes
  for (const ns of ['removed', 'x', 'other']) for (const key of ['a', 'b', 'c']) kv.set(ns, key, 1, 60_000);
  await upkeep.pass();
  const series = async (name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values
      .map((v) => [v.labels.plugin, v.value])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  t.deepEqual(await series('relay_plugin_store_keys'), [
    [OTHER_NAMESPACES, 6],
    ['p', 1],
  ]);
  t.deepEqual(await series('relay_plugin_store_bytes'), [
    [OTHER_NAMESPACES, 12],
    ['p', 5],
  ]);
  // each namespace is held to the cap on its own; the evictions are counted under the same label
  t.deepEqual(await series('relay_plugin_store_keys_evicted_total'), [[OTHER_NAMESPACES, 3]]);
  t.is(
    await metrics.value('relay_plugin_store_keys', { plugin: 'q' }),
    0,
    'a plugin with no key has no series',
  );
});

test('a closed upkeep runs no pass', async (t) => {
  const { upkeep, sink, add, keys } = upkeepOf(t, 1);
  add(3);
  upkeep.close();
  await upkeep.pass();
  t.is(await keys(), 0, 'nothing counted');
  t.is(sink.withCode(CAPPED).length, 0);
});

test('a sweep larger than one batch goes on across turns: the event loop turns between batches', async (t) => {
  const db = tempDatabase(t);
  let now = 1_000_000;
  const kv = new KvStore(db, () => now);
  const upkeep = new StoreUpkeep(
    new KvUpkeep(db, () => now),
    { maxKeysPerPlugin: 1_000_000, maxBytesPerPlugin: 1 << 30, upkeepIntervalMs: 3_600_000 },
    createLogSink().logger,
    new Metrics(),
    ['p'],
  );
  t.teardown(() => upkeep.close());
  const expired = SWEEP_BATCH * 3 + 10;
  for (let i = 0; i < expired; i++) kv.set('p', `gone${i}`, i, 1_000);
  kv.set('p', 'kept', 1, 3_600_000);
  now += 2_000;
  const rows = () => (db.prepare("SELECT count(*) AS n FROM kv WHERE ns = 'p'").get() as { n: number }).n;
  let turns = 0;
  const tick = setInterval(() => turns++, 0);
  t.teardown(() => clearInterval(tick));
  const pass = upkeep.pass();
  // one batch before the first yield: 100 000 expired keys in one call held the loop for 0.6 s
  t.is(rows(), expired + 1 - SWEEP_BATCH, 'only the first batch ran before the pass yielded');
  await pass;
  t.is(rows(), 1, 'every expired key swept within the pass');
  t.true(turns > 0, 'timers ran while the pass swept');
});
