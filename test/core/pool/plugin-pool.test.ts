/**
 * The pool on its own: saturation, a bounded close, and the counters. Fault attribution and
 * worker replacement are proven through the host in `test/core/plugin-host/fault-isolation`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { MessageEventSchema } from '../../../core/index.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { type BatchItem, PluginPool } from '../../../core/pool/plugin-pool.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { testConfig } from '../../helpers/test-config.js';
import { fixture } from '../plugin-host/fixture-host.js';

const PLUGINS = ['echo', 'fault-loops', 'fault-hangs'];

function startPool(t: ExecutionContext, pool: Record<string, unknown>, closeBudgetMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'relay-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 1, ...pool } });
  const metrics = new Metrics();
  const sink = createLogSink();
  const p = new PluginPool({
    pool: config.pool,
    worker: {
      plugins: PLUGINS.map((name) => ({ name, url: pathToFileURL(fixture(name)).href, options: {} })),
      identities: [],
      dbPath: join(dir, 'sidecar.db'),
    },
    log: sink.logger,
    metrics,
    ...(closeBudgetMs === undefined ? {} : { closeBudgetMs }),
  });
  t.teardown(() => p.close());
  return { pool: p, metrics, sink };
}

const event = MessageEventSchema.parse({ text: 'x', source: { platform: 'echo', chat_id: 'c' } });
const inbound = (plugin: number, text: string, budgetMs = 10_000): BatchItem => ({
  task: {
    k: 'inbound',
    chain: [plugin],
    input: { event: { ...event, text }, sessionKey: 'k', capabilities: [] },
  },
  budgets: [budgetMs],
});

test('warm-up loads every plugin in the workers', async (t) => {
  const { pool } = startPool(t, {});
  t.deepEqual(await pool.warm(1, 10_000), []);
});

test('beyond maxQueue waiting tasks, a task fails at once as saturated', async (t) => {
  const { pool, metrics } = startPool(t, { maxQueue: 1 });
  await pool.warm(1, 10_000);
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
  await pool.warm(1, 10_000);
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
