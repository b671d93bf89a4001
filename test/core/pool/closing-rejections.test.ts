/**
 * A task a closing pool rejects is never a failed worker start (core/pool/worker-starts.ts
 * `rejected`): its workers end on purpose. A rejection of the old pool while a renewal closed it
 * was taken for a failed start of that pool — counted (`during="start"`), logged with the
 * reinstall advice, a stall if no worker ran, and a further renewal scheduled (`renewal.failed`
 * of the pool being replaced) — and, outside plugin-pool.ts's own check, so was one of the plugin
 * pool's close. piscina 5.3's own close rejects with errors already told apart (`pool is closed`,
 * `Terminating worker thread`); what remains is a failure of a worker's own in the closing pool,
 * here the one a thread the host refuses fails with (thread-refusals.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

/** The plugin pool's parts these tests drive or read. */
interface Internals {
  readonly pools: { renew(): Promise<void>; readonly current: object };
  readonly watch: { readonly starts: { rejected(err: unknown, pool: object): boolean } };
  readonly renewal: { readonly timer: unknown };
}
const internals = (pool: object) => pool as unknown as Internals;

/** What a worker whose thread the host refused fails its task with. */
const refusal = () => Object.assign(new Error('EAGAIN'), { code: 'ERR_WORKER_INIT_FAILED' });

test('a renewal under way: a rejection in the old pool it closes is no failed start, and renews nothing again', async (t) => {
  t.timeout(60_000);
  const { pool, metrics, sink } = startFixturePool(t, ['store-pause', 'echo'], { closeBudgetMs: 10_000 });
  const dir = tempDir(t);
  // a running task holds the old pool open through the renewal's close
  const running = pool.run([inbound(0, `pause:${dir}`)]);
  await until(() => existsSync(join(dir, 'started')));
  const old = internals(pool).pools.current;
  const renewed = internals(pool).pools.renew();
  t.false(internals(pool).watch.starts.rejected(refusal(), old));
  t.is(internals(pool).renewal.timer, undefined, 'no further renewal scheduled');
  t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }));
  t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_START_FAILED'), []);
  t.false(pool.stats().startFailing);
  writeFileSync(join(dir, 'go'), '');
  t.like((await running)[0], { ok: true });
  await renewed;
  t.like((await pool.run([inbound(1, 'after')]))[0], { ok: true });
});

test("the plugin pool's close: a rejection of its pool is no failed start", async (t) => {
  t.timeout(60_000);
  const { pool, metrics, sink } = startFixturePool(t, ['echo'], { closeBudgetMs: 1_000 });
  t.like((await pool.run([inbound(0, 'before')]))[0], { ok: true });
  const current = internals(pool).pools.current;
  const closed = pool.close();
  t.false(internals(pool).watch.starts.rejected(refusal(), current));
  t.is(internals(pool).renewal.timer, undefined);
  t.falsy(await metrics.value('relay_pool_worker_deaths_total', { during: 'start' }));
  t.deepEqual(sink.withCode('CORE_ERR_PLUGIN_WORKER_START_FAILED'), []);
  await closed;
});
