/**
 * A store write refused for its size that the hook catches (docs/decisions.md, "A store write past
 * a size limit"): the hook handled it, so nothing failed and nothing was logged or counted — an
 * operator could not see that a plugin's state was being refused. Every refusal is now counted in
 * the worker, carried to the main thread with the task's reply, counted in
 * `relay_plugin_store_refusals_total{plugin,code}` and logged once per plugin and code (then at
 * most a summary a minute). Real pool, real SQLite file.
 */
import test from 'ava';
import { inboundInput, startFixtureHost } from './fixture-host.js';

const KEY_TOO_LARGE = 'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE';
const VALUE_TOO_LARGE = 'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE';
const REFUSALS = 'relay_plugin_store_refusals_total';
/** 64 bytes of key (32 `é`), 100 of value as JSON (49 `é` and two quotes). */
const STORE = { store: { maxKeyBytes: 64, maxValueBytes: 100 } };

test('refusals a hook catches, and one it lets through, are counted by plugin and code and logged once each', async (t) => {
  const { host, sink, metrics } = await startFixtureHost(
    t,
    [{ name: 'store-big', timeoutMs: 10_000 }],
    {},
    STORE,
  );
  for (let i = 0; i < 3; i++) {
    t.like(await host.runInbound(inboundInput('caught:40:1')), { kind: 'dropped', reason: KEY_TOO_LARGE });
  }
  for (let i = 0; i < 2; i++) {
    t.like(await host.runInbound(inboundInput('caught:1:60')), { kind: 'dropped', reason: VALUE_TOO_LARGE });
  }
  t.like(await host.runInbound(inboundInput('set:1:60')), {
    kind: 'failed',
    error: { code: VALUE_TOO_LARGE },
  });
  t.is(await metrics.value(REFUSALS, { plugin: 'store-big', code: KEY_TOO_LARGE }), 3);
  t.is(await metrics.value(REFUSALS, { plugin: 'store-big', code: VALUE_TOO_LARGE }), 3);
  const refused = sink.withMsg('plugin store write refused');
  t.is(refused.length, 2, 'one line per plugin and code; the rest wait for the minute summary');
  t.like(
    refused.find((l) => l.code === KEY_TOO_LARGE),
    { plugin: 'store-big', level: 40 },
  );
  t.regex(
    String(refused.find((l) => l.code === VALUE_TOO_LARGE)?.reason),
    /over store\.maxValueBytes \(100\)/,
  );
  // closing logs the summary of what is still unlogged
  await host.close();
  const summary = sink.withMsg('plugin store writes refused');
  t.like(
    summary.find((l) => l.code === KEY_TOO_LARGE),
    { plugin: 'store-big', count: 2 },
  );
});
