/**
 * piscina's `error` events of a pool that is closing (replaced by a renewal, or the pool's own
 * close): only piscina's close timeout is "close budget exceeded" (core/pool/worker-starts.ts). A
 * worker of the replaced pool that died idle during the close was logged that way too, beside its
 * own death's line.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

test('a renewal: an idle worker of the replaced pool that dies during its close is a death, not the close budget', async (t) => {
  t.timeout(60_000);
  const dir = tempDir(t);
  const [started, flag] = [join(dir, 'started'), join(dir, 'oom')];
  // a hook that says it started, then keeps its worker busy until the worker is terminated
  const spins = pluginModule(
    t,
    'spins',
    "import { writeFileSync } from 'node:fs';",
    `inbound: () => { writeFileSync(${JSON.stringify(started)}, ''); for (;;) {} }`,
  );
  // a worker whose event loop runs (an idle one) runs out of memory while the flag file exists
  const oom = pluginModule(
    t,
    'oom-on-flag',
    `import { existsSync } from 'node:fs';
     setInterval(() => {
       if (!existsSync(${JSON.stringify(flag)})) return;
       const hoard = [];
       for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
     }, 20);`,
    'inbound: () => undefined',
  );
  const { pool, sink } = startFixturePool(
    t,
    [
      { name: 'spins', module: spins },
      { name: 'oom-on-flag', module: oom },
    ],
    { pool: { minThreads: 2, maxThreads: 2, maxOldGenerationSizeMb: 16 }, closeBudgetMs: 1_500 },
  );
  await pool.warm(2, 10_000);
  const spinning = pool.run([inbound(0, 'spin', 60_000)]);
  await until(() => existsSync(started));
  // as after a failed start: the old pool closes, its spinning task holding it to the budget
  const renewed = (pool as unknown as { pools: { renew(): Promise<void> } }).pools.renew();
  writeFileSync(flag, '');
  const death = await sink.waitFor((l) => l.code === 'CORE_ERR_PLUGIN_WORKER_DIED', 20_000);
  t.regex(String(death.reason), /memory/);
  // the fresh pool's workers import the module too
  rmSync(flag);
  t.like((await spinning)[0], { ok: false });
  await renewed;
  t.deepEqual(
    sink.withMsg('worker pool close budget exceeded; workers terminated').map((l) => l.reason),
    ['Close operation timed out'],
  );
  // the fresh pool runs tasks
  t.like((await pool.run([inbound(1, 'after')]))[0], { ok: true });
});
