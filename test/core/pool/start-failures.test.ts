/**
 * Pool workers that die before piscina has them ready: their entry itself fails to load (here a
 * test entry that fails while a flag file exists, as the real one does when a running
 * install lost its files). piscina then stops replacing workers and starts one per queued task
 * only. Each such failure was logged at once with no bound (`idle plugin worker failed`), nothing
 * said the pool had no worker, and every task waited its whole queue budget (its hooks' budgets
 * plus 10 s) to fail as saturated. Now: reported at a bounded rate with its own code, counted,
 * the stall shown (`relay_pool_worker_start_failing`, the status), and the tasks fail transiently
 * at once; the next worker that starts clears it (docs/decisions.md, "Worker deaths").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { removeDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

const ENTRY = fileURLToPath(new URL('../../fixtures/pool/entry-fails.cjs', import.meta.url));
const START = 'CORE_ERR_PLUGIN_WORKER_START_FAILED';

/** While `fail(true)`, a new worker's entry fails (the fixture reads the flag file at its start). */
function entryFailures(t: ExecutionContext): (on: boolean) => void {
  const dir = mkdtempSync(join(tmpdir(), 'rs-entry-'));
  const file = join(dir, 'fail');
  // named in the environment before the pool is made: its workers get that environment
  process.env.RELAY_TEST_ENTRY_FAILS_FILE = file;
  t.teardown(() => {
    delete process.env.RELAY_TEST_ENTRY_FAILS_FILE;
    removeDir(dir);
  });
  return (on) => (on ? writeFileSync(file, '') : rmSync(file, { force: true }));
}

test.serial(
  'workers whose entry fails to load: reported at a bounded rate, the stall shown, tasks fail transiently, until one starts',
  async (t) => {
    t.timeout(120_000);
    const failEntries = entryFailures(t);
    const { pool, metrics, sink } = startFixturePool(t, ['echo', 'fault-hangs'], { entry: ENTRY });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    failEntries(true);
    // a hook past its budget: its worker is ended, and the replacement's entry fails
    t.like((await pool.run([inbound(1, 'fault:hang', 300)]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' },
    });
    for (let i = 0; i < 3; i++) {
      t.like((await pool.run([inbound(0, `during ${i}`)]))[0], { ok: false, error: { code: START } });
    }
    await until(
      async () => (await metrics.value('relay_pool_worker_deaths_total', { during: 'start' })) >= 3,
    );
    t.is(await metrics.value('relay_pool_worker_start_failing'), 1);
    t.like(pool.stats(), { startFailing: true });
    const lines = sink.withCode(START);
    t.is(lines.length, 1);
    t.like(lines[0], { msg: 'plugin worker failed to start', level: 50 });
    t.regex(String(lines[0]?.reason), /Cannot find module/);
    t.regex(String(lines[0]?.action), /reinstall|restart/);
    t.is(sink.withMsg('idle plugin worker failed').length, 0);
    failEntries(false);
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
    t.is(await metrics.value('relay_pool_worker_start_failing'), 0);
    t.like(pool.stats(), { startFailing: false });
  },
);

test.serial(
  'a pool that gave up on starting workers is renewed once they start again, with no task sent',
  async (t) => {
    t.timeout(120_000);
    const failEntries = entryFailures(t);
    const { pool, metrics, sink } = startFixturePool(t, ['echo', 'fault-exits'], {
      entry: ENTRY,
      renewDelays: { firstMs: 20, maxMs: 100 },
    });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    failEntries(true);
    // the worker ends by its hook's process.exit; its replacement's entry fails: none runs
    t.like((await pool.run([inbound(1, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    await until(() => pool.stats().startFailing);
    failEntries(false);
    // piscina would start a worker for a task only: the pool is renewed, and its worker runs
    await sink.waitFor((l) => l.msg === 'plugin worker pool renewed after failed worker starts', 20_000);
    await until(() => !pool.stats().startFailing && pool.stats().threads > 0, 20_000, 'a worker again');
    t.is(await metrics.value('relay_pool_worker_start_failing'), 0);
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
    // and it keeps its workers again: one that dies is replaced without a task asking
    t.like((await pool.run([inbound(1, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    await until(() => pool.stats().threads > 0, 20_000, 'a replacement');
    t.like((await pool.run([inbound(0, 'last')]))[0], { ok: true });
  },
);

test.serial(
  'a spare that fails to start while a worker runs is no stall: once that worker ends, the pool is not shown failing',
  async (t) => {
    t.timeout(120_000);
    const failEntries = entryFailures(t);
    const { pool, metrics } = startFixturePool(t, ['echo', 'slow-steps', 'fault-exits'], {
      entry: ENTRY,
      pool: { maxThreads: 2 },
    });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    failEntries(true);
    // the worker is busy for a second: a task meanwhile makes piscina start a spare, which fails
    const busy = pool.run([inbound(1, 'steps:20')]);
    const waiting = pool.run([inbound(0, 'waiting')]);
    await until(
      async () => (await metrics.value('relay_pool_worker_deaths_total', { during: 'start' })) >= 1,
    );
    failEntries(false);
    // the running worker takes both: nothing stalled
    t.like((await busy)[0], { ok: true });
    t.like((await waiting)[0], { ok: true });
    t.is(await metrics.value('relay_pool_worker_start_failing'), 0);
    // that worker ends by its hook's process.exit, and piscina (after a failed start) replaces no
    // worker: none runs, but none has failed to start since a worker last ran
    t.like((await pool.run([inbound(2, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    t.like(pool.stats(), { startFailing: false });
    t.is(await metrics.value('relay_pool_worker_start_failing'), 0);
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
  },
);

test.serial('a task piscina cannot post (its data does not clone) is no failure to start', async (t) => {
  const { pool, metrics, sink } = startFixturePool(t, ['echo'], { pool: { minThreads: 1, maxThreads: 1 } });
  t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
  // a value structured clone refuses (a core bug, never a plugin's): posting the task throws
  const item = inbound(0, 'x');
  const bad = { ...item, task: { ...item.task, uncloneable: () => undefined } };
  const [reply] = await pool.run([bad]);
  t.like(reply, { ok: false });
  t.not(reply?.ok === false ? reply.error.code : undefined, START);
  t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }), 0);
  t.is(sink.withCode(START).length, 0);
  t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
});

test.serial(
  "a new pool's one worker whose entry fails to load: its task is a failed start, not a worker's death",
  async (t) => {
    t.timeout(60_000);
    const failEntries = entryFailures(t);
    failEntries(true);
    const { pool, metrics, sink } = startFixturePool(t, ['echo'], {
      entry: ENTRY,
      renewDelays: { firstMs: 20, maxMs: 100 },
    });
    // was CORE_ERR_PLUGIN_WORKER_DIED ("worker failed: Cannot find module"), a death during boot
    t.like((await pool.run([inbound(0, 'first')]))[0], { ok: false, error: { code: START } });
    t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED'), []);
    t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'boot' }));
    t.regex(String(sink.withCode(START)[0]?.reason), /Cannot find module/);
    failEntries(false);
    // its replacement fails as well while the flag lasts; the pool renews itself once starts work
    await until(() => !pool.stats().startFailing && pool.stats().threads > 0, 20_000, 'a worker again');
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
  },
);
