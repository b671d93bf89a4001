/**
 * The pool on its own: saturation, a bounded close, and the counters. Fault attribution and
 * worker replacement are proven through the host in `test/core/plugin-host/fault-isolation`.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Piscina } from 'piscina';
import { removeDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool, WARM_MS } from './pool-harness.js';

const PLUGINS = ['echo', 'fault-loops', 'fault-hangs', 'fault-blocks'];

const startPool = (t: ExecutionContext, pool: Record<string, unknown>, closeBudgetMs?: number) =>
  startFixturePool(t, PLUGINS, { pool, ...(closeBudgetMs === undefined ? {} : { closeBudgetMs }) });

test('warm-up loads every plugin in the workers', async (t) => {
  const { pool } = startPool(t, {});
  t.deepEqual(await pool.warm(1, WARM_MS), []);
});

test('beyond maxQueue waiting tasks, a task fails at once as saturated', async (t) => {
  const { pool, metrics } = startPool(t, { maxQueue: 1 });
  await pool.warm(1, WARM_MS);
  const busy = pool.run([inbound(1, 'fault:loop', 300)]); // occupies the only worker
  const queued = pool.run([inbound(0, 'queued')]);
  const [rejected] = await pool.run([inbound(0, 'one too many')]);
  t.like(rejected, { ok: false, error: { code: 'CORE_ERR_PLUGIN_POOL_SATURATED' } });
  t.like((await busy)[0], { ok: false, at: 0, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  t.like((await queued)[0], { ok: true });
  t.like(pool.stats(), { threads: 1, queued: 0, completed: 1, failed: 2 });
  t.is(await metrics.value('relay_pool_queue_depth'), 0);
});

test('close is bounded: a hanging task is cut and resolves as closed', async (t) => {
  const { pool } = startPool(t, {}, 100);
  await pool.warm(1, WARM_MS);
  const hanging = pool.run([inbound(2, 'fault:hang', 60_000)]);
  // let the worker start it
  await new Promise((r) => setTimeout(r, 50));
  await pool.close();
  t.like((await hanging)[0], { ok: false, error: { code: 'CORE_ERR_PLUGIN_POOL_CLOSED' } });
  t.like((await pool.run([inbound(0, 'late')]))[0], {
    ok: false,
    error: { code: 'CORE_ERR_PLUGIN_POOL_CLOSED' },
  });
  t.is(pool.stats().threads, 0);
});

test('a worker terminated for a timeout that exits only after close leaves no worker running in the closed pool', async (t) => {
  const { pool } = startPool(t, {}, 200);
  await pool.warm(1, WARM_MS);
  // fault-blocks waits in open() on a named pipe: terminating its worker waits for the call
  const dir = mkdtempSync(join(tmpdir(), 'relay-pool-fifo-'));
  t.teardown(() => removeDir(dir));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const piscina = (pool as unknown as { pools: { current: Piscina } }).pools.current;
  const [blocked] = piscina.threads;
  if (!blocked) throw new Error('no worker after warm-up');
  const exited = once(blocked, 'exit');
  const [reply] = await pool.run([inbound(3, `fault:block:${fifo}`, 100)]);
  t.like(reply, { ok: false, at: 0, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  await pool.close();
  t.is(pool.stats().threads, 0);
  // the blocked call returns: the terminated worker exits now, after the close (piscina then
  // started a replacement in the closed pool, which stayed for the life of the process)
  try {
    writeFileSync(fifo, 'go');
  } catch {
    // EPIPE: the reader went away as soon as the pipe opened
  }
  await exited;
  await until(() => pool.stats().threads === 0, 10_000, 'no worker in the closed pool');
  t.is(pool.stats().threads, 0);
});
