/**
 * The renewal of a pool that gave up on starting workers (core/pool/pool-renewal.ts): once per
 * burst of failures, only once a thread starts, waiting longer while starts keep failing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { PoolRenewal, threadStarts } from '../../../core/pool/pool-renewal.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { inbound, startFixturePool } from './pool-harness.js';

function renewal(probe: () => Promise<boolean>, warm: () => Promise<unknown> = async () => undefined) {
  const sink = createLogSink();
  let renewed = 0;
  const delays = { firstMs: 5, maxMs: 20 };
  const r = new PoolRenewal({ log: sink.logger, delays, renew: () => renewed++, probe, warm });
  return { r, renewed: () => renewed, sink };
}

test('failures in a burst renew the pool once, after a thread started', async (t) => {
  let probes = 0;
  const { r, renewed } = renewal(async () => {
    probes++;
    return true;
  });
  t.teardown(() => r.close());
  r.failed();
  r.failed();
  r.failed();
  await until(() => renewed() === 1);
  t.is(probes, 1);
  // a failure in the new pool renews it again
  r.failed();
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
    r.failed();
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
  r.failed();
  await until(() => probes === 1);
  r.close();
  release(true);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(renewed(), 0);
  // nor does a failure after the close start another probe (its first wait is 5 ms)
  r.failed();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(probes, 1);
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
  (pool as unknown as { renew(): void }).renew();
  // the old pool's close budget ends the hung hook's worker; the queued task had not started
  t.like((await hung)[0], { ok: false, error: { code: 'CORE_ERR_PLUGIN_WORKER_DIED' } });
  t.like((await queued)[0], { ok: true });
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
  (pool as unknown as { renew(): void }).renew();
  // the old pool's worker is free again well within its close budget
  writeFileSync(join(first, 'go'), '');
  t.like((await running)[0], { ok: true });
  // the queued task runs (it waits for its go); the old pool's close budget then runs out: had the
  // old pool's worker taken it, its hook would be cut there, a task lost to the renewal
  await until(() => existsSync(join(second, 'started')));
  await (pool as unknown as { retired: { settled(): Promise<void> } }).retired.settled();
  writeFileSync(join(second, 'go'), '');
  t.like((await queued)[0], { ok: true });
});
