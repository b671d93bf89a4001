/**
 * A plugin-defined op's schema runs in the pool, as the first step of the action's outbound task
 * (never on the thread that reads the socket): the agent's answers stay what they were — 400
 * `invalid_action` with the issues, the op field kept, the parsed action (defaults filled) handed
 * to the hooks — and a schema that loops is ended by its plugin's `timeoutMs` like a hook.
 */
import test from 'ava';
import type { Metrics } from '../../../core/metrics/metrics.js';
import { ECHO, startFixtureHost } from './fixture-host.js';

/** How many durations the plugin `plugin` recorded under `hook`. */
async function timed(metrics: Metrics, plugin: string, hook: string): Promise<number> {
  const data = await metrics.pluginTaskDuration.get();
  const count = data.values.find(
    (v) => v.metricName?.endsWith('_count') && v.labels.plugin === plugin && v.labels.hook === hook,
  );
  return count?.value ?? 0;
}

test("a plugin op is parsed by its plugin's schema in the pool, defaults filled, before the hooks", async (t) => {
  const { host, metrics } = await startFixtureHost(t, [ECHO]);
  // echo's outbound hook runs on echo_ping: it sees the parsed action (metadata defaulted)
  t.deepEqual(await host.runOutbound({ op: 'echo_ping', chat_id: 'c' }, {}), {
    kind: 'ok',
    action: { op: 'echo_ping', chat_id: 'c', metadata: { echo: true } },
    platform: 'echo',
  });
  // the schema's time is its own in the metrics, under hook "validate"
  t.is(await timed(metrics, 'echo', 'validate'), 1);
  t.is(await timed(metrics, 'echo', 'outbound'), 1);
});

test('an action failing its op schema is invalid with the zod issues, and no hook runs', async (t) => {
  const { host, metrics } = await startFixtureHost(t, [ECHO]);
  const outcome = await host.runOutbound({ op: 'echo_ping', chat_id: '', extra: 1 }, {});
  if (outcome.kind !== 'invalid') return t.fail(JSON.stringify(outcome));
  t.is(outcome.status, 400);
  t.is(outcome.code, 'invalid_action');
  t.regex(outcome.message, /^invalid action: /);
  t.like(outcome.issues, [{ path: ['chat_id'] }, { code: 'unrecognized_keys' }]);
  t.is(await timed(metrics, 'echo', 'outbound'), 0);
});

test('a plugin op whose schema rewrites the op is refused, never routed as another op', async (t) => {
  const { host } = await startFixtureHost(t, [{ name: 'op-rewriter' }]);
  t.like(await host.runOutbound({ op: 'rewrite_me', chat_id: 'c' }, {}), {
    kind: 'invalid',
    status: 400,
    code: 'invalid_action',
    message: 'the schema of op "rewrite_me" must keep the op field',
  });
});

test("an op schema that loops is ended by its plugin's timeoutMs, a failure of that plugin", async (t) => {
  const spinner = { name: 'looping-schema', timeoutMs: 1_000 };
  const { host, sink } = await startFixtureHost(t, [spinner, ECHO]);
  t.like(await host.runOutbound({ op: 'spin_op', chat_id: 'c', spin: true }, {}), {
    kind: 'failed',
    plugin: 'looping-schema',
    error: { code: 'CORE_ERR_PLUGIN_TIMEOUT' },
  });
  t.like(sink.withCode('CORE_ERR_PLUGIN_TIMEOUT')[0], { plugin: 'looping-schema', hook: 'validate' });
  // the worker was replaced: the next task is answered (echo's budget covers the new worker's start)
  t.like(await host.runOutbound({ op: 'echo_ping', chat_id: 'c' }, {}), { kind: 'ok' });
});
