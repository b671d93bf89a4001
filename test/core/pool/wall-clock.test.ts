/**
 * Plugin budgets when the wall clock steps while a task runs (an NTP correction, an operator
 * fixing the date): a real pool and real workers; the main thread's `Date.now` is stepped (this
 * file runs its tests one at a time for that reason).
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

const PLUGINS = ['echo', 'fault-hangs'];
const HOUR = 3_600_000;

function startPool(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'relay-pool-clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 1 } });
  const p = new PluginPool({
    pool: config.pool,
    worker: {
      plugins: PLUGINS.map((name) => ({ name, url: pathToFileURL(fixture(name)).href, options: {} })),
      identities: [],
      dbPath: join(dir, 'sidecar.db'),
    },
    log: createLogSink().logger,
    metrics: new Metrics(),
  });
  t.teardown(async () => {
    // the pool's own timers are unref'd: keep the process up while a close waits for a hung task
    const alive = setInterval(() => undefined, 1_000);
    await p.close();
    clearInterval(alive);
  });
  return p;
}

/** Step this thread's wall clock by `ms`; returns the undo (also run at teardown). */
function stepWallClock(t: ExecutionContext, ms: number): () => void {
  const real = Date.now;
  Date.now = () => real() + ms;
  const undo = () => {
    Date.now = real;
  };
  t.teardown(undo);
  return undo;
}

const event = MessageEventSchema.parse({ text: 'fault:hang', source: { platform: 'echo', chat_id: 'c' } });
/** echo (budget `echoMs`) then fault-hangs, which never settles (budget `hangMs`). */
const hanging = (echoMs: number, hangMs: number): BatchItem => ({
  task: { k: 'inbound', chain: [0, 1], input: { event, sessionKey: 'k', capabilities: [] } },
  budgets: [echoMs, hangMs],
});

test.serial(
  'a hung plugin still times out after its budget when the wall clock steps back an hour',
  async (t) => {
    const pool = startPool(t);
    await pool.warm(1, 10_000);
    const result = pool.run([hanging(5_000, 300)]);
    const undo = stepWallClock(t, -HOUR);
    const outcome = await Promise.race([
      result.then(([r]) => r),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ]);
    undo();
    t.like(outcome, { ok: false, at: 1, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  },
);

test.serial(
  'a plugin within its budget is not timed out when the wall clock steps forward a day',
  async (t) => {
    const pool = startPool(t);
    await pool.warm(1, 10_000);
    // the shorter budget of the first plugin makes the watchdog look every second
    const result = pool.run([hanging(1_000, 15_000)]);
    const undo = stepWallClock(t, 24 * HOUR);
    const outcome = await Promise.race([
      result.then(([r]) => r),
      new Promise((resolve) => setTimeout(() => resolve('still running'), 3_000)),
    ]);
    undo();
    t.is(outcome, 'still running', 'a budget of 15 s was not over after 3 s');
    const [late] = await result;
    t.like(late, { ok: false, at: 1, error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  },
);
