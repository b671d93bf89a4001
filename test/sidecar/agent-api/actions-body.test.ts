/**
 * POST /v1/actions on the real HTTP server reading its body: maxBodyBytes (with and without Content-
 * Length, and exactly at the limit), invalid JSON named by position without quoting the body, a reply that
 * cannot be serialised, nesting past 64 levels, and a wrong content type tolerated.
 */
import test from 'ava';
import { ErrorBody, SEND } from './actions-harness.js';
import { postJson, startApi } from './api-harness.js';

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
