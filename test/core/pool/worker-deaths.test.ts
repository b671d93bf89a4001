/**
 * Pool workers that end with no one asking (docs/decisions.md, "Worker deaths"): piscina reports
 * nothing for a worker that exits with no task, so a module whose timer ran every worker out of
 * memory crash-looped unseen. Now each such death is counted, logged (first at once, then at most
 * a summary a minute), and a crash loop is named once. The pool's own ends (a timeout, the close)
 * are not deaths. Real host, real modules in a temp dir.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { Piscina } from 'piscina';
import { Metrics } from '../../../core/metrics/metrics.js';
import { BOOT_KEY, BOOT_NOTE } from '../../../core/pool/boot-report.js';
import { CRASH_LOOP_DEATHS, DEATH_LOG_INTERVAL_MS, WorkerDeaths } from '../../../core/pool/worker-deaths.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { pluginModule } from '../../helpers/plugin-module.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { until } from '../../helpers/until.js';
import { ECHO, echoThread, inboundInput, startFixtureHost } from '../plugin-host/fixture-host.js';

const DIED = 'CORE_ERR_PLUGIN_WORKER_DIED';
const LOOP = 'CORE_ERR_PLUGIN_WORKER_CRASH_LOOP';
const DEATHS = 'relay_pool_worker_deaths_total';

test('a top-level timer that runs every worker out of memory: logged, counted, the crash loop named once', async (t) => {
  // late enough for the start-up check to have let the module through; then the heap limit
  const prelude =
    'setTimeout(() => { const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(hoard.length)); }, 700);';
  const module = pluginModule(t, 'oom-timer', prelude);
  const { sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'oom-timer', module }], {
    maxOldGenerationSizeMb: 16,
  });
  const first = await sink.waitFor((l) => l.code === DIED, 20_000);
  t.like(first, { msg: 'plugin worker died outside a task', level: 50 });
  t.regex(String(first.reason), /memory/);
  const loop = await sink.waitFor((l) => l.code === LOOP, 60_000);
  t.like(loop, { level: 50, plugins: ['echo', 'oom-timer'] });
  t.regex(String(loop.action), /plugins\.json/);
  const deaths = await metrics.value(DEATHS, { during: 'idle' });
  t.true(deaths >= 5, String(deaths));
  // the loop goes on: still one line of each
  await until(async () => (await metrics.value(DEATHS, { during: 'idle' })) >= deaths + 2, 30_000);
  t.is(sink.withCode(LOOP).length, 1);
  t.is(sink.withCode(DIED).length, 1, 'further deaths wait for the minute summary');
  t.is(sink.withMsg('idle plugin worker failed').length, 0, 'not reported twice');
});

test('the pool ending a worker (a timeout, the close) is no death', async (t) => {
  const module = pluginModule(t, 'spins', '', 'inbound: () => { for (;;) {} }');
  const { host, sink, metrics } = await startFixtureHost(t, [
    ECHO,
    { name: 'spins', module, timeoutMs: 300 },
  ]);
  const before = await echoThread(host);
  t.like(await host.runInbound(inboundInput('hi')), {
    kind: 'failed',
    error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' },
  });
  t.not(await echoThread(host), before, 'replaced');
  await host.close();
  t.is(await metrics.value(DEATHS, { during: 'idle' }), 0);
  t.is(await metrics.value(DEATHS, { during: 'task' }), 0);
  t.is(sink.withCode(DIED).length, 0);
  t.is(sink.withCode(LOOP).length, 0);
});

test('a hook running its worker out of memory: its task reports it, counted as a death during a task', async (t) => {
  const hook =
    'inbound: () => { const hoard = []; for (;;) hoard.push(new Array(1_000_000).fill(hoard.length)); }';
  const module = pluginModule(t, 'oom-hook', '', hook);
  const { host, sink, metrics } = await startFixtureHost(t, [
    ECHO,
    { name: 'oom-hook', module, timeoutMs: 20_000 },
  ]);
  await echoThread(host);
  t.like(await host.runInbound(inboundInput('hi')), { kind: 'failed', error: { code: DIED } });
  await echoThread(host);
  t.is(await metrics.value(DEATHS, { during: 'task' }), 1);
  t.is(sink.withCode(DIED).length, 1, 'the task failure only');
  t.like(sink.withCode(DIED)[0], { msg: 'plugin task failed' });
});

/**
 * The log's bounds, on a real piscina pool whose worker file (no trap: not the pool's entry) exits
 * 100 ms after it starts, for ever; only the clock is stepped.
 */
test('deaths outside a task: the first line at once, then a summary with the count a minute later; the crash loop named once per loop', async (t) => {
  const file = join(tempDir(t, 'relay-deaths-'), 'exits.cjs');
  // booted, as a pool worker says once its plugins are imported (after piscina's ready message);
  // then it exits on its own
  const note = JSON.stringify({ k: BOOT_NOTE, key: BOOT_KEY, failed: [] });
  const booted = `setImmediate(() => require('node:worker_threads').parentPort.postMessage(${note}));`;
  writeFileSync(file, `module.exports = () => 1;\n${booted}\nsetTimeout(() => process.exit(7), 100);\n`);
  const sink = createLogSink();
  const metrics = new Metrics();
  let clock = 0;
  // atomics off, as in the plugin pool: an idle worker's event loop runs (its timer fires)
  const pool = new Piscina({ filename: file, atomics: 'disabled', minThreads: 1, maxThreads: 1 });
  pool.on('error', () => undefined);
  const deaths = new WorkerDeaths(pool, { log: sink.logger, metrics, plugins: ['p'], now: () => clock });
  pool.on('message', (m: unknown) => deaths.receive(m));
  t.teardown(async () => {
    deaths.close();
    await pool.destroy();
  });
  const idle = () => metrics.value(DEATHS, { during: 'idle' });

  const first = await sink.waitFor((l) => l.code === DIED, 20_000);
  t.like(first, { msg: 'plugin worker died outside a task', reason: 'worker thread exited with code 7' });
  await until(async () => (await idle()) >= CRASH_LOOP_DEATHS + 1, 30_000);
  t.is(sink.withCode(DIED).length, 1, 'no line within the minute');
  t.is(sink.withCode(LOOP).length, 1, 'the loop named once');

  clock += DEATH_LOG_INTERVAL_MS;
  const seen = await idle();
  const summary = await sink.waitFor((l) => l.msg === 'plugin workers died outside a task', 20_000);
  t.true((summary.count as number) >= seen - 1, `${summary.count} of ${seen}`);
  t.is(summary.reason, 'worker thread exited with code 7');
  // a whole minute without an early death ended the loop: the next one is named again
  await sink.waitFor((l) => l.code === LOOP && sink.withCode(LOOP).length === 2, 30_000);
  t.is(sink.withCode(DIED).length, 2);
});
