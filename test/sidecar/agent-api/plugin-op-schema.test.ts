/**
 * `POST /v1/actions` with a plugin-defined op on the real PluginHost (real piscina pool, fixture
 * plugins, SQLite in a temp dir): the op's schema runs in a pool worker, so a schema that loops
 * costs its plugin a timeout (502 `plugin_failed`) while the API goes on answering.
 */
import test from 'ava';
import { ECHO, startFixtureHost } from '../../core/plugin-host/fixture-host.js';
import { postJson, startApi } from './api-harness.js';

interface ErrorBody {
  error: { code: string; message: string; plugin?: string; issues?: { path: unknown[] }[] };
}

test('an op schema that loops answers 502 plugin_failed, and other requests are answered meanwhile', async (t) => {
  // a budget that a loaded machine answers the other request well within
  const { host } = await startFixtureHost(t, [{ name: 'looping-schema', timeoutMs: 3_000 }]);
  // the spin's action reaches the outbound task (whose first step is its op's schema)
  let handedOver: () => void = () => undefined;
  const inPool = new Promise<void>((resolve) => {
    handedOver = resolve;
  });
  const runOutbound = host.runOutbound.bind(host);
  const plugins = Object.assign(Object.create(host) as typeof host, {
    runOutbound: (...args: Parameters<typeof runOutbound>) => {
      handedOver();
      return runOutbound(...args);
    },
  });
  const h = await startApi(t, { deps: { plugins } });
  let settled = false;
  const spinning = postJson(h, '/v1/actions', { op: 'spin_op', chat_id: 'C1', spin: true }).then((res) => {
    settled = true;
    return res;
  });
  await inPool;
  const other = await postJson(h, '/v1/actions', { op: 'send', chat_id: 'C1', content: 'still here' });
  t.is(other.status, 200);
  t.false(settled, 'the other request waited for the looping schema');
  const res = await spinning;
  t.is(res.status, 502);
  const body = (await res.json()) as ErrorBody;
  t.like(body.error, { code: 'plugin_failed', plugin: 'looping-schema' });
  t.regex(body.error.message, /CORE_ERR_PLUGIN_TIMEOUT/);
  t.is(h.client.sent.length, 1);
});

test('a plugin op failing its schema ⇒ 400 invalid_action with the issues, nothing sent', async (t) => {
  const { host } = await startFixtureHost(t, [ECHO]);
  const h = await startApi(t, { deps: { plugins: host } });
  const res = await postJson(h, '/v1/actions', { op: 'echo_ping', chat_id: '' });
  t.is(res.status, 400);
  const body = (await res.json()) as ErrorBody;
  t.is(body.error.code, 'invalid_action');
  t.deepEqual(
    body.error.issues?.map((i) => i.path),
    [['chat_id']],
  );
  t.is(h.client.sent.length, 0);
});
