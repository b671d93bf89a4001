import test from 'ava';
import { postJson, startApi } from './api-harness.js';

interface ErrorBody {
  error: { code: string; issues?: { path: (string | number)[] }[] };
}
const KEY = 'agent:main:discord:group:C1:U1';

test('POST /v1/interrupt ⇒ 202 and one interrupt frame with the reason', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/interrupt', { session_key: KEY, reason: 'user said stop' });
  t.is(res.status, 202);
  t.deepEqual(h.client.interrupts, [{ sessionKey: KEY, reason: 'user said stop' }]);
});

test('POST /v1/interrupt without a reason sends reason null', async (t) => {
  const h = await startApi(t);
  const res = await postJson(h, '/v1/interrupt', { session_key: KEY });
  t.is(res.status, 202);
  t.deepEqual(h.client.interrupts, [{ sessionKey: KEY, reason: null }]);
});

test('POST /v1/interrupt while not connected ⇒ 503 relay_not_connected', async (t) => {
  const h = await startApi(t);
  h.client.state = 'reconnecting';
  const res = await postJson(h, '/v1/interrupt', { session_key: KEY });
  t.is(res.status, 503);
  t.is(((await res.json()) as ErrorBody).error.code, 'relay_not_connected');
});

test('POST /v1/interrupt while revoked ⇒ 503 relay_revoked', async (t) => {
  const h = await startApi(t);
  h.client.state = 'revoked';
  const res = await postJson(h, '/v1/interrupt', { session_key: KEY });
  t.is(res.status, 503);
  t.is(((await res.json()) as ErrorBody).error.code, 'relay_revoked');
});

test('POST /v1/interrupt with a body nested past 64 levels ⇒ 400 json_too_deep, nothing sent', async (t) => {
  const h = await startApi(t);
  const res = await postJson(
    h,
    '/v1/interrupt',
    `{"session_key":"${KEY}","x":${'['.repeat(65)}${']'.repeat(65)}}`,
  );
  t.is(res.status, 400);
  t.is(((await res.json()) as ErrorBody).error.code, 'json_too_deep');
  t.is(h.client.interrupts.length, 0);
});

for (const [name, body] of [
  ['missing session_key', { reason: 'x' }],
  ['empty session_key', { session_key: '' }],
  ['reason not a string', { session_key: KEY, reason: 5 }],
  ['not an object', [KEY]],
] as const) {
  test(`POST /v1/interrupt with ${name} ⇒ 400 invalid_request with issues`, async (t) => {
    const h = await startApi(t);
    const res = await postJson(h, '/v1/interrupt', body);
    t.is(res.status, 400);
    const err = (await res.json()) as ErrorBody;
    t.is(err.error.code, 'invalid_request');
    t.true((err.error.issues ?? []).length > 0);
    t.is(h.client.interrupts.length, 0);
  });
}

test('GET /v1/chats/{chat_id} ⇒ {name, type}, the id percent-decoded', async (t) => {
  const h = await startApi(t);
  const res = await h.call(`/v1/chats/${encodeURIComponent('whatsapp:+1 555/01')}`);
  t.is(res.status, 200);
  t.deepEqual(await res.json(), { name: 'name of whatsapp:+1 555/01', type: 'group' });
});
