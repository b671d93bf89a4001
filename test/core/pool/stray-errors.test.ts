/**
 * Stray errors of plugin code in the pool's workers (docs/decisions.md, "Stray errors"): a timer,
 * an interval or a rejection a plugin left behind, at its module's top level or after a hook,
 * used to end the worker — for a top-level timer, every replacement too (a crash loop). Now the
 * worker survives, the other plugins' hooks keep running in it, and the error is logged once
 * with the plugin's name and a stable code, then summarised, and counted. Each plugin is a real
 * module file in a temp dir, loaded by a real host (check thread, piscina pool, SQLite store).
 */
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { until } from '../../helpers/until.js';
import { ECHO, echoThread, inboundInput, startFixtureHost } from '../plugin-host/fixture-host.js';

const STRAY = 'CORE_ERR_PLUGIN_STRAY_ERROR';
const STRAY_METRIC = 'relay_plugin_stray_errors_total';

test('a top-level timer that throws no longer kills the worker: logged once with the plugin, counted', async (t) => {
  // late enough to fire after the start-up check let the module through, in the worker
  const module = pluginModule(
    t,
    'stray-timer',
    "setTimeout(() => { throw new Error('boom\\nsecond line'); }, 200);",
  );
  const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'stray-timer', module }]);
  const before = await echoThread(host);
  const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
  t.like(line, { msg: 'plugin stray error', plugin: 'stray-timer', origin: 'exception', level: 50 });
  t.is(line.reason, 'Error: boom', 'the first line only');
  t.is(await echoThread(host), before, 'the same worker still runs the other plugins');
  t.is(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  t.is(host.stats().threads, 1);
  t.is(await metrics.value(STRAY_METRIC, { plugin: 'stray-timer' }), 1);
  t.is(sink.withCode(STRAY).length, 1);
});

test('an interval that throws every millisecond is counted, logged once, and harms nothing', async (t) => {
  const module = pluginModule(t, 'stray-ticker', "setInterval(() => { throw new RangeError('tick'); }, 1);");
  const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'stray-ticker', module }]);
  const before = await echoThread(host);
  await until(async () => (await metrics.value(STRAY_METRIC, { plugin: 'stray-ticker' })) >= 100, 20_000);
  t.is(await echoThread(host), before);
  t.is(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  // the first at once; a summary no sooner than a minute later
  t.is(sink.withCode(STRAY).length, 1);
  t.like(sink.withCode(STRAY)[0], { plugin: 'stray-ticker', reason: 'RangeError: tick' });
});

test('a hook that leaves a rejection and a throwing timer behind: its task succeeds, the worker survives', async (t) => {
  const hook =
    "inbound: () => { Promise.reject(new Error('left behind')); setTimeout(() => { throw new Error('after the task'); }, 5); return undefined; }";
  const module = pluginModule(t, 'stray-hook', '', hook);
  const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'stray-hook', module }]);
  const before = await echoThread(host);
  t.like(await host.runInbound(inboundInput('hi')), { kind: 'event' });
  // the first report comes at once, the second with the worker's next report (a second later)
  await until(async () => (await metrics.value(STRAY_METRIC, { plugin: 'stray-hook' })) >= 2, 10_000);
  t.like(await host.runInbound(inboundInput('again')), { kind: 'event' });
  t.is(await echoThread(host), before);
  t.is(sink.withCode('CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
  const lines = sink.withCode(STRAY);
  t.is(lines.length, 1);
  t.like(lines[0], { plugin: 'stray-hook', origin: 'rejection', reason: 'Error: left behind' });
  t.is(host.stats().failed, 0);
});

test('a stray error that leaves a hook unsettled ends in its timeout, never a hang', async (t) => {
  const hook =
    "inbound: () => new Promise((resolve) => setTimeout(() => { throw new Error('never resolves'); resolve(undefined); }, 5))";
  const module = pluginModule(t, 'stray-stuck', '', hook);
  const { host, sink } = await startFixtureHost(t, [ECHO, { name: 'stray-stuck', module, timeoutMs: 300 }]);
  const outcome = await host.runInbound(inboundInput('hi'));
  t.like(outcome, { kind: 'failed', plugin: 'stray-stuck', error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' } });
  await sink.waitFor((l) => l.code === STRAY && l.plugin === 'stray-stuck', 10_000);
  // the terminated worker was replaced
  await echoThread(host);
});

test('an error no module can be blamed for counts as "(unknown)"; a URL in it never reaches the log', async (t) => {
  // a thrown string has no stack; the webhook URL carries a token
  const prelude =
    "setTimeout(() => { throw 'POST https://discord.com/api/webhooks/1/SeCrEtToKeN failed'; }, 200);";
  const module = pluginModule(t, 'stray-string', prelude);
  const { host, sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'stray-string', module }]);
  const before = await echoThread(host);
  const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
  t.like(line, { plugin: '(unknown)', reason: 'POST [url] failed' });
  t.is(await metrics.value(STRAY_METRIC, { plugin: '(unknown)' }), 1);
  t.false(sink.text().includes('SeCrEtToKeN'));
  t.is(await echoThread(host), before);
});
