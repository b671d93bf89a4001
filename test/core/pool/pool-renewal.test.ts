/**
 * The renewal of a pool that gave up on starting workers (core/pool/pool-renewal.ts): once per
 * burst of failures, only once a thread starts, waiting longer while starts keep failing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Clock } from '../../../core/di/clock.js';
import { PoolRenewal, threadStarts } from '../../../core/pool/pool-renewal.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { type FixturePoolOptions, inbound, startFixturePool } from './pool-harness.js';

function renewal(probe: () => Promise<boolean>, warm: () => Promise<unknown> = async () => undefined) {
  const sink = createLogSink();
  let renewed = 0;
  const delays = { firstMs: 5, maxMs: 20 };
  const renew = () => {
    renewed++;
  };
  const r = new PoolRenewal({ log: sink.logger, delays, renew, probe, warm });
  return { r, renewed: () => renewed, sink };
}

/** The plugin pool's parts a renewal test drives or reads. */
const internals = (pool: object) =>
  pool as unknown as { pools: { renew(): Promise<void> }; slots: { readonly inUse: number } };

/** The pool a test's failures name. */
const POOL = {};

test('failures in a burst renew the pool once, after a thread started', async (t) => {
  let probes = 0;
  const { r, renewed } = renewal(async () => {
    probes++;
    return true;
  });
  t.teardown(() => r.close());
  r.failed(POOL);
  r.failed(POOL);
  r.failed(POOL);
  await until(() => renewed() === 1);
  t.is(probes, 1);
  // a failure in the new pool renews it again
  r.failed(POOL);
  await until(() => renewed() === 2);
});

// while the bare thread is refused, or a thread starts but no worker does (the warm-up task in
// the pool given up on fails): nothing is renewed, and the check is tried again until it passes
for (const failing of ['thread', 'worker'] as const) {
  test(`while no ${failing} starts, nothing is renewed and the check is tried again`, async (t) => {
    let passes = false;
    let tries = 0;
    const check = async () => {
      tries++;
      return passes;
    };
    const { r, renewed } = renewal(
      failing === 'thread' ? check : async () => true,
      failing === 'worker'
        ? async () => {
            if (!(await check())) throw new Error('no plugin worker could start');
          }
        : undefined,
    );
    t.teardown(() => r.close());
    r.failed(POOL);
    await until(() => tries >= 3);
    t.is(renewed(), 0);
    passes = true;
    await until(() => renewed() === 1);
  });
}

test('closed, it renews nothing, even with a probe under way', async (t) => {
  let probes = 0;
  let release: (free: boolean) => void = () => undefined;
  const { r, renewed } = renewal(() => {
    probes++;
    return new Promise<boolean>((resolve) => (release = resolve));
  });
  r.failed(POOL);
  await until(() => probes === 1);
  r.close();
  release(true);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(renewed(), 0);
  // nor does a failure after the close start another probe (its first wait is 5 ms)
  r.failed(POOL);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(probes, 1);
});

test('while renewals keep failing the wait doubles: a boot in the pool given up on (the warm-up) sets nothing back', async (t) => {
  // a fake clock: the waits asked for are recorded, and run when the test says
  const waits: Array<{ ms: number; run: () => void }> = [];
  const clock: Clock = {
    now: () => 0,
    setTimeout: (run, ms) => {
      waits.push({ ms, run });
      return setTimeout(() => undefined, 0);
    },
    clearTimeout: () => undefined,
  };
  let pool: object = {};
  let refuse = true;
  // the renewal itself, for the callbacks it is given
  const self: { r?: PoolRenewal } = {};
  const r = new PoolRenewal({
    log: createLogSink().logger,
    delays: { firstMs: 10, maxMs: 80 },
    clock,
    probe: async () => true,
    // the warm-up starts a worker in the pool given up on, which imports the plugins
    warm: async () => self.r?.booted(pool),
    // the fresh pool's first start is refused (the old pool still held the thread), or it boots
    renew: async () => {
      pool = {};
      if (refuse) self.r?.failed(pool);
      else self.r?.booted(pool);
    },
  });
  self.r = r;
  t.teardown(() => r.close());
  r.failed(pool);
  for (let n = 1; n <= 5; n++) {
    await until(() => waits.length === n);
    waits[n - 1]?.run();
  }
  await until(() => waits.length === 6);
  t.deepEqual(
    waits.map((w) => w.ms),
    [10, 20, 40, 80, 80, 80],
  );
  // a fresh pool whose worker boots: the next failure is renewed after the first wait again
  refuse = false;
  waits[5]?.run();
  await new Promise((resolve) => setImmediate(resolve));
  t.is(waits.length, 6);
  r.failed(pool);
  t.is(waits[6]?.ms, 10);
});

test('the real probe starts a thread here', async (t) => {
  t.true(await threadStarts());
});

test('a renewal: what runs in the old pool gets its close budget; what was still queued there runs in the new one', async (t) => {
  t.timeout(60_000);
  const { pool } = startFixturePool(t, ['echo', 'fault-hangs'], { closeBudgetMs: 300 });
  t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
  // the one worker hangs in a hook; a task waits behind it in piscina's queue
  const hung = pool.run([inbound(1, 'fault:hang', 20_000)]);
  const queued = pool.run([inbound(0, 'queued')]);
  await until(() => pool.stats().queued === 1);
  // as after a failed start, once a worker can start again (the renewal's checks are its own tests)
  const renewed = internals(pool).pools.renew();
  // sent while the old pool closes: it waits for the fresh one
  const during = pool.run([inbound(0, 'during')]);
  // the old pool's close budget ends the hung hook's worker; the queued task had not started
  t.like((await hung)[0], { ok: false, error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' } });
  t.like((await queued)[0], { ok: true });
  t.like((await during)[0], { ok: true });
  await renewed;
  t.like((await pool.run([inbound(0, 'after')]))[0], { ok: true });
});

test('a renewal: a task queued in the old pool is not started there once its running task ends', async (t) => {
  t.timeout(60_000);
  const { pool } = startFixturePool(t, ['store-pause'], { closeBudgetMs: 500 });
  const [first, second] = [tempDir(t), tempDir(t)];
  const running = pool.run([inbound(0, `pause:${first}`)]);
  await until(() => existsSync(join(first, 'started')));
  const queued = pool.run([inbound(0, `pause:${second}`)]);
  await until(() => pool.stats().queued === 1);
  const renewed = internals(pool).pools.renew();
  // the old pool's worker is free again well within its close budget
  writeFileSync(join(first, 'go'), '');
  t.like((await running)[0], { ok: true });
  // the queued task runs (it waits for its go), in the fresh pool, made once the old one closed:
  // had the old pool's worker taken it, the old pool's close budget would cut its hook, a task
  // lost to the renewal
  await until(() => existsSync(join(second, 'started')));
  await renewed;
  // the resend holds one slot: its first try gave its own back (it held it through the resend)
  t.is(internals(pool).slots.inUse, 1);
  writeFileSync(join(second, 'go'), '');
  t.like((await queued)[0], { ok: true });
});

/**
 * A pool whose one worker holds a task in a hook while another waits in piscina's queue, then a
 * renewal, whose old pool's close waits for the running task: the queued one is rejected there,
 * unstarted, and waits for the fresh pool with one sent as the renewal starts. `go()` frees the hook.
 */
async function renewalWithQueued(t: ExecutionContext, pool: FixturePoolOptions['pool'] = {}) {
  const started = startFixturePool(t, ['store-pause', 'echo'], { closeBudgetMs: 10_000, pool });
  const dir = tempDir(t);
  const running = started.pool.run([inbound(0, `pause:${dir}`)]);
  await until(() => existsSync(join(dir, 'started')));
  const queued = started.pool.run([inbound(1, 'queued')]);
  await until(() => started.pool.stats().queued === 1);
  const renewed = internals(started.pool).pools.renew();
  // sent before the old pool's close has rejected the queued task: it waits first
  const during = started.pool.run([inbound(1, 'during')]);
  await until(() => started.pool.stats().queued === 2, 10_000, 'both waiting counted');
  const go = () => writeFileSync(join(dir, 'go'), '');
  return { ...started, tasks: [running, queued, during], renewed, go };
}

test('a renewal: the tasks waiting for the fresh pool are counted as queued', async (t) => {
  t.timeout(60_000);
  // piscina's queue holds neither of the two waiting
  const { pool, metrics, tasks, renewed, go } = await renewalWithQueued(t);
  t.is(await metrics.value('relay_pool_queue_depth'), 2);
  go();
  for (const task of tasks) t.like((await task)[0], { ok: true });
  await renewed;
  t.is(pool.stats().queued, 0);
  t.is(await metrics.value('relay_pool_queue_depth'), 0);
});

test('a renewal: a task resent from the old pool is not refused for the places new tasks took', async (t) => {
  t.timeout(60_000);
  // the queued task took the one place; the one sent at the renewal took the one place in the
  // wait for the fresh pool before it was resent (was: the resent task failed
  // CORE_ERR_PLUGIN_POOL_SATURATED, though accepted before)
  const { pool, tasks, renewed, go } = await renewalWithQueued(t, { maxQueue: 1 });
  // a new task is still refused: the bound holds for new tasks
  t.like((await pool.run([inbound(1, 'late')]))[0], { error: { code: 'CORE_ERR_PLUGIN_POOL_SATURATED' } });
  go();
  for (const task of tasks) t.like((await task)[0], { ok: true });
  await renewed;
  t.is(pool.stats().queued, 0);
});
