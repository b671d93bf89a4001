/**
 * An outbound hook that lists an op no enabled plugin and not the core defines never runs: a
 * typo (`sned`, `follow-up`) silently switched the hook off. The start warns, naming the plugin
 * and the ops, and goes on (the op may belong to a plugin that is disabled on purpose).
 */
import test from 'ava';
import { ECHO, startFixtureHost } from './fixture-host.js';

test('an outbound op nobody defines is warned about at start, naming the plugin and the op', async (t) => {
  const { sink, metrics } = await startFixtureHost(t, [ECHO, { name: 'typo-ops' }]);
  const lines = sink.withCode('CORE_ERR_PLUGIN_UNKNOWN_OP');
  t.is(lines.length, 1);
  t.like(lines[0], { plugin: 'typo-ops', ops: ['sned'], level: 40 });
  t.is(await metrics.value('relay_errors_total', { code: 'CORE_ERR_PLUGIN_UNKNOWN_OP' }), 1);
});

test('ops defined by the core or an enabled plugin are not warned about', async (t) => {
  const { sink } = await startFixtureHost(t, [ECHO]);
  t.is(sink.withCode('CORE_ERR_PLUGIN_UNKNOWN_OP').length, 0);
});
