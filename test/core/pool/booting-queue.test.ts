/**
 * Tasks waiting while a worker still loads its entry (the test entry holds a worker unready while
 * a file exists). piscina's `queueSize` takes one off per worker starting, and a task it handed to
 * such a worker is in no queue at all: `/v1/status` `pool.queued` and `relay_pool_queue_depth`
 * read 0 for tasks waiting on a booting replacement, and the pool's own `pool.maxQueue` check let
 * one more task per starting worker wait. And when a worker freed up, piscina handed a waiting task
 * to a spare still loading before the free worker, where it waited for the boot or, with the boot
 * hanging, its whole queue allowance (docs/decisions.md, "Waiting tasks").
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

const ENTRY = fileURLToPath(new URL('../../fixtures/pool/entry-exits.cjs', import.meta.url));
const SATURATED = 'CORE_ERR_PLUGIN_POOL_SATURATED';

/** The file whose presence holds a worker that starts unready, named before the pool is made. */
function holdFile(t: ExecutionContext, dir: string): string {
  const hold = join(dir, 'hold');
  process.env.RELAY_TEST_ENTRY_HOLD_FILE = hold;
  t.teardown(() => {
    delete process.env.RELAY_TEST_ENTRY_HOLD_FILE;
  });
  return hold;
}

test.serial(
  'tasks waiting for a replacement still loading are counted as queued, and no more than pool.maxQueue wait',
  async (t) => {
    t.timeout(60_000);
    const hold = holdFile(t, tempDir(t));
    const { pool, metrics } = startFixturePool(t, ['echo', 'fault-hangs'], {
      entry: ENTRY,
      pool: { maxQueue: 2 },
    });
    t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
    // a hook past its budget: its worker is ended, and the replacement stays unready
    writeFileSync(hold, '');
    t.like((await pool.run([inbound(1, 'fault:hang', 300)]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' },
    });
    t.is(pool.stats().threads, 1);
    const waiting = [pool.run([inbound(0, 'a')]), pool.run([inbound(0, 'b')])];
    t.is(pool.stats().queued, 2);
    t.is(await metrics.value('relay_pool_queue_depth'), 2);
    // the queue is full: a third fails at once
    const third = pool.run([inbound(0, 'c')]);
    rmSync(hold);
    t.like((await third)[0], { ok: false, error: { code: SATURATED } });
    for (const reply of await Promise.all(waiting)) t.like(reply[0], { ok: true });
    t.is(pool.stats().queued, 0);
    t.is(await metrics.value('relay_pool_queue_depth'), 0);
  },
);

test.serial(
  "a task handed to a new pool's first worker still loading its entry is counted as queued until it has loaded",
  async (t) => {
    t.timeout(60_000);
    const dir = tempDir(t);
    const hold = holdFile(t, dir);
    // the pool's first worker, ready to piscina at once, loads its entry only once the file is gone
    writeFileSync(hold, '');
    const { pool, metrics } = startFixturePool(t, ['store-pause', 'echo'], {
      entry: ENTRY,
      pool: { maxQueue: 2 },
    });
    const running = pool.run([inbound(0, `pause:${dir}`)]);
    let ranOut = false;
    void running.then(() => {
      ranOut = true;
    });
    const second = pool.run([inbound(1, 'second')]);
    t.is(pool.stats().queued, 2);
    t.is(await metrics.value('relay_pool_queue_depth'), 2);
    // two wait, one of them on the loading worker: the queue is full
    t.like((await pool.run([inbound(1, 'third')]))[0], { ok: false, error: { code: SATURATED } });
    // once the entry has loaded, the task handed to that worker waits no more; the second does
    rmSync(hold);
    await until(() => existsSync(join(dir, 'started')));
    // while that task still runs (its hook waits for the go file): not when it ends
    await until(() => pool.stats().queued === 1 || ranOut, 10_000, 'only the second task queued');
    t.false(ranOut);
    t.is(pool.stats().queued, 1);
    t.is(await metrics.value('relay_pool_queue_depth'), 1);
    writeFileSync(join(dir, 'go'), '');
    t.like((await running)[0], { ok: true });
    t.like((await second)[0], { ok: true });
    t.is(pool.stats().queued, 0);
    t.is(await metrics.value('relay_pool_queue_depth'), 0);
  },
);

test.serial(
  'a worker that frees up takes the waiting tasks, not a spare still loading its entry, and both count as queued',
  async (t) => {
    t.timeout(60_000);
    const dir = tempDir(t);
    const hold = holdFile(t, dir);
    const { pool, metrics } = startFixturePool(t, ['store-pause', 'echo'], {
      entry: ENTRY,
      pool: { minThreads: 1, maxThreads: 2 },
    });
    t.like((await pool.run([inbound(1, 'before')]))[0], { ok: true });
    // the one worker waits in a hook; the next task makes piscina start a spare, which stays unready
    writeFileSync(hold, '');
    const running = pool.run([inbound(0, `pause:${dir}`)]);
    await until(() => existsSync(join(dir, 'started')));
    const second = pool.run([inbound(1, 'second', 300)]);
    await until(() => pool.stats().threads === 2);
    const third = pool.run([inbound(1, 'third', 300)]);
    t.is(pool.stats().queued, 2);
    t.is(await metrics.value('relay_pool_queue_depth'), 2);
    // the worker frees up: it runs both waiting tasks, one after the other, the spare still held
    writeFileSync(join(dir, 'go'), '');
    t.like((await running)[0], { ok: true });
    t.like((await second)[0], { ok: true });
    t.like((await third)[0], { ok: true });
    t.true(existsSync(hold));
    t.is(pool.stats().queued, 0);
    t.is(await metrics.value('relay_pool_queue_depth'), 0);
    rmSync(hold);
  },
);

test.serial(
  "a start's warm-up task waiting for a worker still loading counts as queued, yet takes no place of pool.maxQueue",
  async (t) => {
    t.timeout(60_000);
    const hold = holdFile(t, tempDir(t));
    // the pool's first worker loads its entry only once the file is gone
    writeFileSync(hold, '');
    const { pool, metrics } = startFixturePool(t, ['echo'], { entry: ENTRY, pool: { maxQueue: 1 } });
    const warm = pool.warm(1, 30_000);
    // was 0: the warm-up carried no waiting mark
    t.is(pool.stats().queued, 1);
    t.is(await metrics.value('relay_pool_queue_depth'), 1);
    // not the operator's task: the one place of the queue is still free for one
    const task = pool.run([inbound(0, 'task')]);
    t.is(pool.stats().queued, 2);
    t.like((await pool.run([inbound(0, 'over')]))[0], { ok: false, error: { code: SATURATED } });
    rmSync(hold);
    t.deepEqual(await warm, []);
    t.like((await task)[0], { ok: true });
    t.is(pool.stats().queued, 0);
    t.is(await metrics.value('relay_pool_queue_depth'), 0);
  },
);
