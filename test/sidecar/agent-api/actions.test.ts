import test from 'ava';
import { definePlugin } from '../../../core/index.js';
import { descriptor, postJson, startApi } from './api-harness.js';

interface ErrorBody {
  error: { code: string; message: string; issues?: { path: (string | number)[] }[]; plugin?: string };
}
const SEND = { op: 'send', chat_id: 'C1', content: 'hello' };

test('a valid send ⇒ 200 {result} and one send with defaults filled', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { result: { success: true, message_id: 'm-1' } });
  t.is(h.client.sent.length, 1);
  t.deepEqual(h.client.sent[0]?.action, { ...SEND, reply_to: null, metadata: {} });
});

test('a body over maxBodyBytes ⇒ 413 body_too_large, nothing sent', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  const big = { ...SEND, content: 'x'.repeat(4096) };
  const res = await postJson(h, '/v1/actions', big);
  t.is(res.status, 413);
  t.is(((await res.json()) as ErrorBody).error.code, 'body_too_large');
  t.is(h.client.sent.length, 0);
});

test('a chunked body over maxBodyBytes (no Content-Length) ⇒ 413 body_too_large', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  const chunk = new TextEncoder().encode(`{"op":"send","chat_id":"C1","content":"${'y'.repeat(600)}`);
  const body = new ReadableStream({
    start(controller) {
      for (let i = 0; i < 20; i++) controller.enqueue(chunk);
      controller.close();
    },
  });
  const res = await h.call('/v1/actions', { method: 'POST', body, duplex: 'half' } as RequestInit);
  t.is(res.status, 413);
  t.is(((await res.json()) as ErrorBody).error.code, 'body_too_large');
  t.is(h.client.sent.length, 0);
});

test('a body of exactly maxBodyBytes is accepted', async (t) => {
  const h = await startApi(t, { config: { api: { maxBodyBytes: 1024 } } });
  const prefix = JSON.stringify({ ...SEND, content: '' });
  const exact = JSON.stringify({ ...SEND, content: 'z'.repeat(1024 - prefix.length) });
  t.is(Buffer.byteLength(exact), 1024);
  const res = await postJson(h, '/v1/actions', exact);
  t.is(res.status, 200);
});

for (const [name, body] of [
  ['broken JSON', '{"op":"send",'],
  ['empty body', ''],
  ['bare text', 'hello'],
] as const) {
  test(`${name} ⇒ 400 invalid_json`, async (t) => {
    const h = await startApi(t);
    const res = await postJson(h, '/v1/actions', body);
    t.is(res.status, 400);
    t.is(((await res.json()) as ErrorBody).error.code, 'invalid_json');
    t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_BAD_REQUEST' }), 1);
  });
}

test('an invalid_json message names the position, never quotes the body (found by fuzzing)', async (t) => {
  // V8's parser message quotes up to ~30 characters around the error: a credential in metadata,
  // or the user's words, came back in the message, which an agent's error log may keep
  const h = await startApi(t);
  for (const body of [
    '{"op":"send","metadata":{"api_key": sk-live-SECRET123}}',
    'SECRET hello',
    '{"a":1} SECRET',
  ]) {
    const res = await postJson(h, '/v1/actions', body);
    t.is(res.status, 400);
    const { error } = (await res.json()) as ErrorBody;
    t.is(error.code, 'invalid_json');
    t.false(error.message.includes('SECRET'), error.message);
    t.regex(error.message, /position \d+|not valid JSON/);
  }
});

test('a reply that cannot be serialised is a 500 internal_error, reported once, not an unhandled rejection', async (t) => {
  // a connector result nested past the stack: writeReply's JSON.stringify threw outside the
  // handler's try, so the request was never answered and the rejection was unhandled (exit 1)
  const h = await startApi(t);
  let deep: Record<string, unknown> = { success: true };
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  h.client.reply = async () => ({ success: true, extra: deep });
  const res = await postJson(h, '/v1/actions', SEND);
  t.is(res.status, 500);
  t.is(((await res.json()) as ErrorBody).error.code, 'internal_error');
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_HANDLER_FAILED' }), 1);
  // the server goes on serving
  t.is((await postJson(h, '/v1/actions', SEND)).status, 500);
  h.client.reply = async () => ({ success: true, message_id: 'm-2' });
  t.is((await postJson(h, '/v1/actions', SEND)).status, 200);
});

test('a body nested past 64 levels ⇒ 400 json_too_deep (counted), 64 levels pass', async (t) => {
  const h = await startApi(t);
  const nest = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
  // the action object is level 1, metadata level 2, so the array may nest 62 deep
  const ok = await postJson(
    h,
    '/v1/actions',
    `{"op":"send","chat_id":"C1","content":"a","metadata":{"x":${nest(62)}}}`,
  );
  t.is(ok.status, 200, await ok.text());
  const res = await postJson(
    h,
    '/v1/actions',
    `{"op":"send","chat_id":"C1","content":"b","metadata":{"x":${nest(63)}}}`,
  );
  t.is(res.status, 400);
  const body = (await res.json()) as ErrorBody;
  t.is(body.error.code, 'json_too_deep');
  t.regex(body.error.message, /64/);
  t.is(h.client.sent.length, 1);
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_BAD_REQUEST' }), 1);
});

test('a wrong content type is tolerated when the body parses', async (t) => {
  const h = await startApi(t);
  const res = await h.call('/v1/actions', {
    method: 'POST',
    body: JSON.stringify(SEND),
    headers: { 'content-type': 'text/plain' },
  });
  t.is(res.status, 200);
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

test('executeAction is the same pipeline without HTTP (push delivery)', async (t) => {
  const h = await startApi(t, { listen: false });
  const ok = await h.api.executeAction(SEND);
  t.is(ok.status, 200);
  const bad = await h.api.executeAction({ op: 'send' });
  t.is(bad.status, 400);
  t.is((bad.body as ErrorBody).error.code, 'invalid_action');
});
