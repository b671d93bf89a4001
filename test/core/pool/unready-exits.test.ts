/**
 * Pool workers whose thread exits, with no error, before piscina has them ready (here a test entry
 * that exits while a count in a file lasts). piscina rejects what it had handed such a worker,
 * stops replacing workers for the life of the pool (`workerFailsDuringBootstrap`) and says
 * nothing: no `error` event for an exit. The pool sat with no worker and no renewal, and a task
 * queued behind it waited its whole queue budget to fail as saturated (docs/decisions.md,
 * "Worker deaths").
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
  return (n) => writeFileSync(file, String(n));
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
  'a worker piscina ends before it is ready (a task it was handed timed out): the pool is renewed, and replaces its workers again',
  async (t) => {
    t.timeout(120_000);
    const dir = tempDir(t);
    const hold = join(dir, 'hold');
    process.env.RELAY_TEST_ENTRY_HOLD_FILE = hold;
    t.teardown(() => {
      delete process.env.RELAY_TEST_ENTRY_HOLD_FILE;
    });
    const { pool, sink } = startFixturePool(t, ['store-pause', 'echo', 'fault-exits'], {
      entry: ENTRY,
      pool: { minThreads: 1, maxThreads: 2 },
      renewDelays: { firstMs: 20, maxMs: 100 },
    });
    t.like((await pool.run([inbound(1, 'before')]))[0], { ok: true });
    // the one worker waits in a hook; the next task makes piscina start a spare, which stays unready
    writeFileSync(hold, '');
    const running = pool.run([inbound(0, `pause:${dir}`)]);
    await until(() => existsSync(join(dir, 'started')));
    const second = pool.run([inbound(1, 'second', 300)]);
    await until(() => pool.stats().threads === 2);
    const third = pool.run([inbound(1, 'third', 300)]);
    // the worker frees up: piscina hands one waiting task to it and the other to the unready spare
    writeFileSync(join(dir, 'go'), '');
    t.like((await running)[0], { ok: true });
    // the spare never starts its task: aborted past its queue allowance, piscina ends the spare
    const replies = [(await second)[0], (await third)[0]];
    t.deepEqual(replies.map((r) => r?.ok).sort(), [false, true]);
    const ended = 'plugin worker ended before it was ready; the worker pool will be renewed';
    await sink.waitFor((l) => l.msg === ended && l.component === 'plugin-pool');
    // the pool's logger names its component once: the line gave it again as a field, a duplicate
    // key in the JSON line (parsers keep one of the two, or refuse the line)
    const raw =
      sink
        .text()
        .split('\n')
        .find((line) => line.includes(ended)) ?? '';
    t.is(raw.match(/"component":/g)?.length, 1, raw);
    // piscina would replace no worker of that pool any more: the pool is renewed
    rmSync(hold, { force: true });
    await sink.waitFor((l) => l.msg === 'plugin worker pool renewed after failed worker starts', 20_000);
    await until(() => pool.stats().threads > 0, 20_000, 'a worker again');
    // the fresh pool replaces a worker that dies, with no task asking
    t.like((await pool.run([inbound(2, 'fault:exit')]))[0], {
      error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' },
    });
    await until(() => pool.stats().threads > 0, 20_000, 'a replacement');
    t.like((await pool.run([inbound(1, 'last')]))[0], { ok: true });
  },
);
