/**
 * Tasks waiting while a worker still loads its entry (the test entry holds a worker unready while
 * a file exists). When a worker freed up, piscina handed a waiting task to a spare still loading
 * before the free worker, where it waited for the boot or, with the boot hanging, its whole queue
 * allowance (docs/decisions.md, "Waiting tasks").
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

const ENTRY = fileURLToPath(new URL('../../fixtures/pool/entry-exits.cjs', import.meta.url));

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
  'a worker that frees up takes the waiting tasks, not a spare still loading its entry',
  async (t) => {
    t.timeout(60_000);
    const dir = tempDir(t);
    const hold = holdFile(t, dir);
    const { pool } = startFixturePool(t, ['store-pause', 'echo'], {
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
    // the worker frees up: it runs both waiting tasks, one after the other, the spare still held
    writeFileSync(join(dir, 'go'), '');
    t.like((await running)[0], { ok: true });
    t.like((await second)[0], { ok: true });
    t.like((await third)[0], { ok: true });
    t.true(existsSync(hold));
    rmSync(hold);
  },
);
