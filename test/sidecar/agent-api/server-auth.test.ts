import test from 'ava';
import { API_ERROR_CODES } from '../../../sidecar/agent-api/errors.js';
import { startApi, TEST_TOKEN } from './api-harness.js';

/** Every route that needs the token, with a request that would otherwise succeed. */
const PROTECTED: { method: string; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/v1/status' },
  { method: 'POST', path: '/v1/actions', body: { op: 'send', chat_id: 'C1', content: 'hi' } },
  { method: 'POST', path: '/v1/interrupt', body: { session_key: 'agent:main:discord:dm:D1' } },
  { method: 'GET', path: '/v1/chats/C1' },
  { method: 'GET', path: '/v1/events' },
  { method: 'POST', path: '/v1/events/dlv_1/ack' },
];

const WRONG_CREDENTIALS: { name: string; authorization?: string }[] = [
  { name: 'no header' },
  { name: 'wrong token', authorization: 'Bearer wrong-token-0123456789' },
  { name: 'token prefix', authorization: `Bearer ${TEST_TOKEN.slice(0, -1)}` },
  { name: 'token plus suffix', authorization: `Bearer ${TEST_TOKEN}x` },
  { name: 'no scheme', authorization: TEST_TOKEN },
  { name: 'empty bearer', authorization: 'Bearer ' },
];

for (const route of PROTECTED) {
  for (const cred of WRONG_CREDENTIALS) {
    test(`${route.method} ${route.path} with ${cred.name} ⇒ 401 unauthorized`, async (t) => {
      const h = await startApi(t);
      h.pull.outstanding.add('dlv_1');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      // `call` adds the good token unless an authorization header is given: give an explicit one
      headers.authorization = cred.authorization ?? '';
      const res = await h.call(route.path, {
        method: route.method,
        headers,
        ...(route.body ? { body: JSON.stringify(route.body) } : {}),
      });
      t.is(res.status, 401);
      t.truthy(res.headers.get('www-authenticate'));
      const body = (await res.json()) as { error: { code: string; message: string } };
      t.is(body.error.code, 'unauthorized');
      // nothing happened behind the refused call
      t.is(h.client.sent.length, 0);
      t.is(h.client.interrupts.length, 0);
      t.is(h.pull.attached.length, 0);
      t.true(h.pull.outstanding.has('dlv_1'));
      t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_API_UNAUTHORIZED' }), 1);
    });
  }
}

test('Basic credentials open the status page but not the API', async (t) => {
  const h = await startApi(t);
  const basic = `Basic ${Buffer.from(`anyone:${TEST_TOKEN}`).toString('base64')}`;
  const page = await h.call('/', { headers: { authorization: basic } });
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /^text\/html/);
  const api = await h.call('/v1/status', { headers: { authorization: basic } });
  t.is(api.status, 401);
  const wrong = await h.call('/', {
    headers: { authorization: `Basic ${Buffer.from('anyone:nope').toString('base64')}` },
  });
  t.is(wrong.status, 401);
  t.regex(wrong.headers.get('www-authenticate') ?? '', /^Basic realm=/);
});

test('the token is not accepted in the query string', async (t) => {
  const h = await startApi(t);
  const res = await h.call(`/v1/status?token=${TEST_TOKEN}`, { headers: { authorization: '' } });
  t.is(res.status, 401);
});

for (const path of ['/healthz', '/readyz', '/metrics']) {
  test(`${path} needs no token`, async (t) => {
    const h = await startApi(t);
    const res = await fetch(`${h.base}${path}`);
    t.is(res.status, 200);
  });
}

test('the bearer scheme is case-insensitive and the right token passes', async (t) => {
  const h = await startApi(t);
  const res = await h.call('/v1/status', { headers: { authorization: `bearer ${TEST_TOKEN}` } });
  t.is(res.status, 200);
});

test('unknown path ⇒ 404 not_found JSON; wrong method ⇒ 405 with Allow', async (t) => {
  const h = await startApi(t);
  const missing = await h.call('/v2/nothing');
  t.is(missing.status, 404);
  t.is(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
  const wrong = await h.call('/v1/actions');
  t.is(wrong.status, 405);
  t.is(wrong.headers.get('allow'), 'POST');
  t.is(((await wrong.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  const trailing = await h.call('/v1/status/');
  t.is(trailing.status, 404);
});

test('a malformed percent-encoding in a path parameter ⇒ 400 invalid_request', async (t) => {
  const h = await startApi(t);
  const res = await h.call('/v1/chats/%E0%A4%A');
  t.is(res.status, 400);
  t.is(((await res.json()) as { error: { code: string } }).error.code, 'invalid_request');
});

test('every API error code has a status, a meaning and a remedy, and is lowercase', (t) => {
  for (const [code, info] of Object.entries(API_ERROR_CODES)) {
    t.regex(code, /^[a-z][a-z_]*$/);
    t.true(info.status >= 400 && info.status <= 599, code);
    t.true(info.meaning.length > 0 && info.remedy.length > 0, code);
  }
});

test('the token never appears in logs, even on refused calls', async (t) => {
  const h = await startApi(t);
  await h.call('/v1/status');
  await h.call('/v1/status', { headers: { authorization: 'Bearer someone-elses-token-value' } });
  await h.call(`/v1/status?token=${TEST_TOKEN}`, { headers: { authorization: '' } });
  t.true(h.logs().length > 0);
  t.false(h.logText().includes(TEST_TOKEN));
  t.false(h.logText().includes('someone-elses-token-value'));
});
