/**
 * The store upkeep's passes on a real SQLite file (the host runs them on a timer; here the test
 * runs each pass itself, so what a pass sees is decided by the test): the cap's warning is logged
 * once per episode however many passes find the plugin over, and a sweep or an eviction larger
 * than one turn's batch goes on across turns within its pass.
 */
import test, { type ExecutionContext } from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { EVICT_BATCH, StoreUpkeep, SWEEP_BATCH } from '../../../core/plugin-host/store-upkeep.js';
import { KvStore } from '../../../core/store/kv-store.js';
import { KvUpkeep } from '../../../core/store/kv-upkeep.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDatabase } from '../../helpers/temp-db.js';

const CAPPED = 'CORE_ERR_PLUGIN_STORE_KEYS_CAPPED';
const BACK = 'plugin store back within its key cap';

/** An upkeep with `maxKeysPerPlugin` on a fresh file, its timer too slow to run in a test. */
function upkeepOf(t: ExecutionContext, maxKeysPerPlugin: number) {
  const db = tempDatabase(t);
  const kv = new KvStore(db);
  const sink = createLogSink();
  const metrics = new Metrics();
  const upkeep = new StoreUpkeep(
    new KvUpkeep(db),
    { maxKeysPerPlugin, upkeepIntervalMs: 3_600_000 },
    sink.logger,
    metrics,
  );
  t.teardown(() => upkeep.close());
  let next = 0;
  /** Add `n` keys to namespace `p`, each expiring later than the one before. */
  const add = (n: number) => {
    for (let i = 0; i < n; i++, next++) kv.set('p', `k${next}`, next, 3_600_000 + next);
  };
  const keys = () => metrics.value('relay_plugin_store_keys', { plugin: 'p' });
  return { upkeep, sink, metrics, add, keys };
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

test('an eviction larger than one batch goes on across turns, within its pass', async (t) => {
  const { upkeep, metrics, add, keys } = upkeepOf(t, 10);
  add(EVICT_BATCH * 2 + 10 + 7);
  const pass = upkeep.pass();
  t.is(upkeep.pass(), pass, 'a pass while one is evicting settles with it');
  await pass;
  t.is(await keys(), 10);
  t.is(await metrics.value('relay_plugin_store_keys_evicted_total', { plugin: 'p' }), EVICT_BATCH * 2 + 7);
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
    { maxKeysPerPlugin: 1_000_000, upkeepIntervalMs: 3_600_000 },
    createLogSink().logger,
    new Metrics(),
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
