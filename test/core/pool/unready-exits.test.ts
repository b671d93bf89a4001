/**
 * Pool workers whose thread exits, with no error, before piscina has them ready (here a test entry
 * that exits while a count in a file lasts). piscina rejects what it had handed such a worker,
 * stops replacing workers for the life of the pool (`workerFailsDuringBootstrap`) and says
 * nothing: no `error` event for an exit. The pool sat with no worker and no renewal, and a task
 * queued behind it waited its whole queue budget to fail as saturated (docs/decisions.md,
 * "Worker deaths"). piscina no longer hands a task to a worker still loading (ready-dispatch.ts,
 * test/core/pool/booting-queue), so it no longer ends one by aborting such a task.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

const ENTRY = fileURLToPath(new URL('../../fixtures/pool/entry-exits.cjs', import.meta.url));
const START = 'CORE_ERR_PLUGIN_WORKER_START_FAILED';

/** `exits(n)`: the next `n` workers that start exit before they are ready. */
function entryExits(t: ExecutionContext): (n: number) => void {
  const file = join(tempDir(t), 'exits');
  writeFileSync(file, '0');
  // named in the environment before the pool is made: its workers get that environment
  process.env.RELAY_TEST_ENTRY_EXITS_FILE = file;
  t.teardown(() => {
    delete process.env.RELAY_TEST_ENTRY_EXITS_FILE;
  });
  return (n) => {
    // the claims of an earlier count (the entry takes exit n by creating <file>.n)
    for (let i = 1; i <= n; i++) rmSync(`${file}.${i}`, { force: true });
    writeFileSync(file, String(n));
  };
}

/**
 * A pool of two first workers (piscina counts them ready at once, and hands them a task each), one
 * of which ends while it loads its entry while the other loads and runs its task; `codes`: the two
 * tasks' outcomes, sorted.
 */
async function twoFirstWorkers(t: ExecutionContext) {
  entryExits(t)(1);
  const started = startFixturePool(t, ['echo'], { entry: ENTRY, pool: { minThreads: 2, maxThreads: 2 } });
  const { pool } = started;
  const replies = await Promise.all([pool.run([inbound(0, 'a')]), pool.run([inbound(0, 'b')])]);
  return { ...started, codes: replies.map((r) => (r[0]?.ok ? 'ok' : r[0]?.error.code)).sort() };
}

test.serial(
  'a replacement whose thread exits before it is ready: reported, the queued task fails transiently, the pool renewed with no task sent',
  async (t) => {
    t.timeout(120_000);
    const exits = entryExits(t);
    const { pool, metrics, sink } = startFixturePool(t, ['echo', 'fault-hangs', 'fault-exits'], {
      entry: ENTRY,
      renewDelays: { firstMs: 20, maxMs: 100 },
      // the renewal's check, whose worker exits too, must end as that worker does: at its own
      // deadline (was 10 s, which the renewal still made within the wait below) it never would
      renewWarmMs: 600_000,
    });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    exits(2);
    // a hook past its budget: its worker is ended, and the replacement exits before it is ready,
    // then the renewal's check worker as well; a task waits behind the hook for the one worker
    // (both are sent to piscina at once)
    const hung = pool.run([inbound(1, 'fault:hang', 300)]);
    const queued = pool.run([inbound(0, 'queued')]);
    t.like((await hung)[0], { error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
    // no worker would ever start for it: it fails at once, transiently, blaming no hook
    t.like((await queued)[0], { ok: false, error: { code: START } });
    const [line] = sink.withCode(START);
    t.like(line, { msg: 'plugin worker failed to start', level: 50 });
    t.regex(String(line?.reason), /exited with code 1 before it was ready/);
    t.true((await metrics.value('relay_pool_worker_deaths_total', { during: 'start' })) >= 1);
    // piscina would start a worker for a later task only: the pool is renewed, and keeps a worker
    await sink.waitFor((l) => l.msg === 'plugin worker pool renewed after failed worker starts', 20_000);
    await until(() => !pool.stats().startFailing && pool.stats().threads > 0, 20_000, 'a worker again');
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
    // and replaces its workers again: one that dies is replaced without a task asking
    t.like((await pool.run([inbound(2, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    await until(() => pool.stats().threads > 0, 20_000, 'a replacement');
    t.like((await pool.run([inbound(0, 'last')]))[0], { ok: true });
  },
);

test.serial(
  'a first worker whose thread exits while loading its entry, beside one that runs: its task is a failed start, not a boot death',
  async (t) => {
    t.timeout(60_000);
    // one of the two first workers exits before its entry has loaded
    const { pool, metrics, sink, codes } = await twoFirstWorkers(t);
    // the lost task is the start's: transient, no plugin to disable
    t.deepEqual(codes, [START, 'ok']);
    t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_BOOT_FAILED'), []);
    t.like(sink.withCode(START)[0], { msg: 'plugin worker failed to start' });
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }), 1);
    t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'boot' }));
    // piscina replaced it (a first worker): no stall, and the pool runs on two workers
    t.false(pool.stats().startFailing);
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
  },
);

test.serial(
  'a first worker whose entry throws while it loads, beside one that runs: its task is a failed start, counted once, not a death',
  async (t) => {
    t.timeout(60_000);
    process.env.RELAY_TEST_ENTRY_EXITS_THROW = '1';
    t.teardown(() => {
      delete process.env.RELAY_TEST_ENTRY_EXITS_THROW;
    });
    // one of the two first workers throws as it loads its entry
    const { pool, metrics, sink, codes } = await twoFirstWorkers(t);
    // was CORE_ERR_PLUGIN_WORKER_DIED ("worker failed: Cannot find module"), counted a boot death
    t.deepEqual(codes, [START, 'ok']);
    t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED'), []);
    t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_BOOT_FAILED'), []);
    const lines = sink.withCode(START);
    t.is(lines.length, 1);
    t.like(lines[0], { msg: 'plugin worker failed to start' });
    t.regex(String(lines[0]?.reason), /Cannot find module/);
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }), 1);
    t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'boot' }));
    // piscina replaced it (a first worker): no stall, no renewal, and the pool runs on
    t.false(pool.stats().startFailing);
    t.deepEqual(sink.withMsg('plugin worker pool renewed after failed worker starts'), []);
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
    t.is(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }), 1);
  },
);

test.serial(
  "a renewal's fresh pool whose first worker's entry throws while loading: its task fails as a start, the renewal is retried, no task is lost",
  async (t) => {
    t.timeout(120_000);
    process.env.RELAY_TEST_ENTRY_EXITS_THROW = '1';
    const hold = join(tempDir(t), 'hold');
    process.env.RELAY_TEST_ENTRY_HOLD_FILE = hold;
    t.teardown(() => {
      delete process.env.RELAY_TEST_ENTRY_EXITS_THROW;
      delete process.env.RELAY_TEST_ENTRY_HOLD_FILE;
    });
    const exits = entryExits(t);
    const { pool, metrics, sink } = startFixturePool(t, ['echo', 'fault-exits'], {
      entry: ENTRY,
      renewDelays: { firstMs: 20, maxMs: 100 },
      renewWarmMs: 600_000,
    });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    // the worker ends by its hook; its replacement's entry throws: the pool gives up on starts
    exits(1);
    writeFileSync(hold, '');
    t.like((await pool.run([inbound(1, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    // the renewal's check starts a worker in that pool, held past the count: it will load; then
    // the fresh pool's first worker throws, its replacement too, and the next check's worker too
    await until(() => existsSync(`${hold}.seen`), 20_000, "the check's worker");
    // the check waits for that worker as a task would: counted (was 0), though no task of ours
    t.is(pool.stats().queued, 1);
    t.is(await metrics.value('relay_pool_queue_depth'), 1);
    exits(3);
    const renewed = (l: { msg?: unknown }) =>
      l.msg === 'plugin worker pool renewed after failed worker starts';
    const firstRenewal = sink.waitFor(renewed, 20_000);
    rmSync(hold);
    await firstRenewal;
    // sent while the old pool closes: it waits for the fresh pool, whose first worker takes it
    const during = pool.run([inbound(0, 'during')]);
    t.like((await during)[0], { ok: false, error: { code: START } });
    // renewed again once a check's worker loads (the fresh pool gave up on starts in turn)
    await until(() => sink.lines.filter(renewed).length >= 2, 30_000, 'a second renewal');
    await until(() => !pool.stats().startFailing && pool.stats().threads > 0, 20_000, 'a worker again');
    t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
    t.is(pool.stats().queued, 0);
    t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_BOOT_FAILED'), []);
    t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'boot' }));
    // the first pool's replacement, the fresh pool's first and its replacement, the second check's
    t.true((await metrics.value('relay_pool_worker_deaths_total', { during: 'start' })) >= 4);
    t.regex(String(sink.withCode(START)[0]?.reason), /Cannot find module/);
  },
);
