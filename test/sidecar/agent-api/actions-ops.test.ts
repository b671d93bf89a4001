/**
 * POST /v1/actions on the real HTTP server checking the action: a valid send with defaults filled, an
 * invalid action's zod issues, unknown and unadvertised ops (gated by the descriptor of the platform the
 * plugins chose), get_chat_info never gated, and executeAction as the same pipeline without HTTP.
 */
import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { ErrorBody, SEND } from './actions-harness.js';
import { descriptor, postJson, startApi } from './api-harness.js';

test('a valid send ⇒ 200 {result} and one send with defaults filled', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { success: true, message_id: 'm-1' } });
  t.is(h.client.sent.length, 1);
  t.deepEqual(h.client.sent[0]?.action, { ...SEND, reply_to: null, metadata: {} });
});

test('an invalid action ⇒ 400 invalid_action with zod issues naming the fields', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/actions', { op: 'send', chat_id: '' });
  t.is(res.status, 400);
  const body = (await res.json()) as ErrorBody;
  t.is(body.error.code, 'invalid_action');
  const paths = (body.error.issues ?? []).map((i) => i.path.join('.'));
  t.true(paths.includes('chat_id'));
  t.true(paths.includes('content'));
  t.is(h.client.sent.length, 0);
});

test('an unknown op ⇒ 422 unsupported_op', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/actions', { op: 'teleport', chat_id: 'C1' });
  t.is(res.status, 422);
  t.is(((await res.json()) as ErrorBody).error.code, 'unsupported_op');
});

test('an op the descriptor does not advertise ⇒ 422 unsupported_op, nothing sent', async (t) => {
  const h = await startApi(t);
  h.client.descriptorMap.set('discord', descriptor('discord', ['send', 'edit']));
  const res = await postJson(h, '/v1/actions', { op: 'react', chat_id: 'C1', message_id: 'M1', emoji: '👍' });
  t.is(res.status, 422);
  t.is(((await res.json()) as ErrorBody).error.code, 'unsupported_op');
  t.is(h.client.sent.length, 0);
  const ok = await postJson(h, '/v1/actions', SEND);
  t.is(ok.status, 200);
});

test('op gating uses the descriptor of the platform the plugins chose', async (t) => {
  const tagger = definePlugin({
    name: 'tagger',
    outbound: { ops: '*', hook: ({ action }) => ({ action, platform: 'telegram', botId: 'tg-bot' }) },
  });
  const h = await startApi(t, { plugins: [tagger] });
  h.client.descriptorMap.set('discord', descriptor('discord', ['send', 'react']));
  h.client.descriptorMap.set('telegram', descriptor('telegram', ['send']));
  const refused = await postJson(h, '/v1/actions', {
    op: 'react',
    chat_id: 'C1',
    message_id: 'M1',
    emoji: 'x',
  });
  t.is(refused.status, 422);
  const sent = await postJson(h, '/v1/actions', SEND);
  t.is(sent.status, 200);
  t.deepEqual(h.client.sent[0]?.tags, { platform: 'telegram', botId: 'tg-bot' });
});

test('get_chat_info is answered by the client and never gated', async (t) => {
  const h = await startApi(t);
  h.client.descriptorMap.set('discord', descriptor('discord', ['send']));
  const res = await postJson(h, '/v1/actions', { op: 'get_chat_info', chat_id: 'C9' });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { name: 'name of C9', type: 'group' } });
  t.is(h.host.outboundCalls, 0);
});

test('executeAction is the same pipeline without HTTP (push delivery)', async (t) => {
  const h = await startApi(t, { listen: false });
  const ok = await h.api.executeAction(SEND);
  t.is(ok.status, 200);
  const bad = await h.api.executeAction({ op: 'send' });
  t.is(bad.status, 400);
  t.is((bad.body as ErrorBody).error.code, 'invalid_action');
});
