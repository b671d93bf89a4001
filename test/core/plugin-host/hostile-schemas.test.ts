/**
 * A plugin whose own code misbehaves outside its hooks: a module that never finishes loading or
 * calls process.exit as it loads, an options schema or an op schema that throws instead of
 * reporting issues, an async op schema.
 * At start each is a refusal naming the plugin and the problem (not a silent hang, not an
 * uncoded "run: boom"); on an agent's action it is a coded, counted failure of that plugin in
 * the pool, answered 502 `plugin_failed` like a failing hook (not 500 `internal_error`).
 */
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { loadPlugins } from '../../../core/plugin-host/plugin-loader.js';
import { type Entry, manifestOf, startFixtureHost } from './fixture-host.js';

const MANIFEST_PATH = '/irrelevant/plugins.json';
const load = (entries: Entry[], loadTimeoutMs?: number) =>
  loadPlugins(parseManifest(manifestOf(entries), MANIFEST_PATH, 2_000), MANIFEST_PATH, loadTimeoutMs);

test('a module whose import never finishes stops the start, naming the plugin, instead of hanging', async (t) => {
  const err = await t.throwsAsync(load([{ name: 'slow-load' }], 200), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.true(err?.message.includes('plugin "slow-load"'), err?.message);
});

test('a module that calls process.exit at import stops the start, naming the plugin, instead of exiting 0', async (t) => {
  const err = await t.throwsAsync(load([{ name: 'exits-at-import' }]), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.true(err?.message.includes('plugin "exits-at-import"'), err?.message);
  t.true(err?.message.includes('process.exit(0)'), err?.message);
});

test('an options schema that throws is invalid options naming the plugin, not an uncoded error', async (t) => {
  const err = await t.throwsAsync(load([{ name: 'throwing-schemas', options: { explode: true } }]), {
    instanceOf: RelayError,
  });
  t.is(err?.code, 'CORE_ERR_PLUGIN_OPTIONS_INVALID');
  t.true(err?.message.includes('plugin "throwing-schemas"'), err?.message);
});

test('an op schema that throws or is async is a failure of its plugin, in the pool; validation never throws', async (t) => {
  const { host } = await startFixtureHost(t, [{ name: 'throwing-schemas' }]);
  for (const op of ['exploding_op', 'async_op']) {
    // the main thread only knows the op is the plugin's: its schema runs with the outbound task
    t.like(host.validateAction({ op }), { ok: true }, op);
    const outcome = await host.runOutbound({ op }, {});
    t.like(
      outcome,
      { kind: 'failed', plugin: 'throwing-schemas', error: { code: 'CORE_ERR_PLUGIN_THREW' } },
      op,
    );
    if (outcome.kind === 'failed') t.regex(outcome.error.message, /^op schema threw: /, op);
  }
});

test("the host logs and counts an op schema's failure once, as the plugin's", async (t) => {
  const { host, sink, metrics } = await startFixtureHost(t, [{ name: 'throwing-schemas' }]);
  t.like(await host.runOutbound({ op: 'exploding_op' }, {}), { kind: 'failed' });
  const lines = sink.withCode('CORE_ERR_PLUGIN_THREW');
  t.is(lines.length, 1);
  t.like(lines[0], { plugin: 'throwing-schemas', hook: 'validate', level: 50 });
  const labels = { plugin: 'throwing-schemas', code: 'CORE_ERR_PLUGIN_THREW' };
  t.is(await metrics.value('relay_plugin_failures_total', labels), 1);
});
