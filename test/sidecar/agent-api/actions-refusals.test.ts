/**
 * POST /v1/actions on the real HTTP server when the action cannot go out: not or never connected (a
 * synthesised result), revoked (503), a crashing outbound plugin (502), a plugin op's schema failing in
 * the pool (400), and a saturated pool or too many concurrent calls (503 busy).
 */
import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { ErrorBody, SEND } from './actions-harness.js';
import { postJson, startApi } from './api-harness.js';

test('not connected ⇒ 200 with the synthesised result', async (t) => {
  const h = await startApi(t);
  h.client.state = 'reconnecting';
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { success: false, error: 'relay transport not connected' } });
});

test('never connected (no descriptor yet) ⇒ 200 not connected, not 422', async (t) => {
  const h = await startApi(t);
  h.client.state = 'connecting';
  h.client.descriptorMap.clear();
  const res = await postJson(h, '/v1/actions', { op: 'react', chat_id: 'C1', message_id: 'M1', emoji: 'x' });
  t.is(res.status, 200);
  t.is(((await res.json()) as { result: { error: string } }).result.error, 'relay transport not connected');
});

test('revoked ⇒ 503 relay_revoked before any plugin runs', async (t) => {
  const h = await startApi(t);
  h.client.state = 'revoked';
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 503);
  t.is(((await res.json()) as ErrorBody).error.code, 'relay_revoked');
  t.is(h.host.outboundCalls, 0);
});

test('a crashing outbound plugin ⇒ 502 plugin_failed naming the plugin, nothing sent', async (t) => {
  const crasher = definePlugin({
    name: 'crasher',
    outbound: {
      ops: ['send'],
      hook: () => {
        throw new Error('boom');
      },
    },
  });
  const h = await startApi(t, { plugins: [crasher] });
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 502);
  const body = (await res.json()) as ErrorBody;
  t.is(body.error.code, 'plugin_failed');
  t.is(body.error.plugin, 'crasher');
  t.is(h.client.sent.length, 0);
});

test("an action failing its plugin op's schema in the pool ⇒ 400 invalid_action with the issues, nothing sent", async (t) => {
  const h = await startApi(t);
  const issues = [{ code: 'too_small', path: ['chat_id'], message: 'Too small' }];
  const message = 'invalid action: chat_id: Too small';
  h.host.validateAction = (raw) => ({ ok: true, action: raw as { op: string } });
  h.host.runOutbound = async () => ({
    kind: 'invalid',
    status: 400,
    code: 'invalid_action',
    message,
    issues,
  });
  const res = await postJson(h, '/v1/actions', { op: 'shaky_op', chat_id: '' });
  t.is(res.status, 400);
  t.deepEqual(await res.json(), { error: { code: 'invalid_action', message, issues } });
  t.is(h.client.sent.length, 0);
});

test('a saturated worker pool ⇒ 503 busy with Retry-After (load, not a plugin bug), nothing sent', async (t) => {
  const saturated = definePlugin({
    name: 'saturated',
    outbound: {
      ops: ['send'],
      hook: () => {
        throw Object.assign(new Error('queue full'), { code: 'CORE_ERR_PLUGIN_POOL_SATURATED' });
      },
    },
  });
  const h = await startApi(t, { plugins: [saturated] });
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 503);
  t.is(res.headers.get('retry-after'), '1');
  t.is(((await res.json()) as ErrorBody).error.code, 'busy');
  t.is(h.client.sent.length, 0);
});

test('more than maxInFlightActions concurrent calls ⇒ 503 busy; capacity returns after', async (t) => {
  const h = await startApi(t, { config: { api: { maxInFlightActions: 1 } } });
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let entered: () => void = () => {};
  const sending = new Promise<void>((resolve) => {
    entered = resolve;
  });
  h.client.reply = async () => {
    entered();
    await gate;
    return { success: true };
  };
  const first = postJson(h, '/v1/actions', SEND);
  await sending;
  const second = await postJson(h, '/v1/actions', SEND);
  t.is(second.status, 503);
  t.is(((await second.json()) as ErrorBody).error.code, 'busy');
  release();
  t.is((await first).status, 200);
  h.client.reply = async () => ({ success: true });
  t.is((await postJson(h, '/v1/actions', SEND)).status, 200);
});
