import test from 'ava';
import { basicPassword, bearerToken, isAuthorized, tokenEquals } from '../../../sidecar/agent-api/auth.js';
import { parseJsonBytes } from '../../../sidecar/agent-api/body.js';
import { RouteTable } from '../../../sidecar/agent-api/route-table.js';

const table = new RouteTable([
  { method: 'GET', pattern: '/v1/status' },
  { method: 'GET', pattern: '/v1/chats/:chat_id' },
  { method: 'POST', pattern: '/v1/events/:id/ack' },
  { method: 'GET', pattern: '/v1/events' },
  { method: 'GET', pattern: '/' },
] as const);

test('routes match literally and capture decoded parameters', (t) => {
  const chats = table.match('GET', '/v1/chats/a%2Fb%20c');
  t.is(chats.kind, 'found');
  if (chats.kind === 'found') t.deepEqual(chats.params, { chat_id: 'a/b c' });
  const ack = table.match('POST', '/v1/events/dlv_1/ack');
  t.true(ack.kind === 'found' && ack.params.id === 'dlv_1');
  t.is(table.match('GET', '/').kind, 'found');
  t.deepEqual(table.match('HEAD', '/v1/events'), { kind: 'method_not_allowed', allow: ['GET'] });
});

test('no route, wrong method and bad encoding are distinct outcomes', (t) => {
  t.deepEqual(table.match('GET', '/v1/chats/'), { kind: 'not_found' });
  t.deepEqual(table.match('GET', '/v1/chats/a/b'), { kind: 'not_found' });
  t.deepEqual(table.match('GET', '/nope'), { kind: 'not_found' });
  t.deepEqual(table.match('DELETE', '/v1/status'), { kind: 'method_not_allowed', allow: ['GET'] });
  t.deepEqual(table.match('GET', '/v1/chats/%ZZ'), { kind: 'bad_param', param: 'chat_id' });
});

test('a duplicate route is a programming error', (t) => {
  t.throws(
    () =>
      new RouteTable([
        { method: 'GET', pattern: '/x' },
        { method: 'GET', pattern: '/x' },
      ]),
  );
});

test('bearer and basic header parsing', (t) => {
  t.is(bearerToken('Bearer abc'), 'abc');
  t.is(bearerToken('bearer   abc  '), 'abc');
  t.is(bearerToken('Bearer a b'), undefined);
  t.is(bearerToken('Basic abc'), undefined);
  t.is(bearerToken(undefined), undefined);
  t.is(basicPassword(`Basic ${Buffer.from('u:p:q').toString('base64')}`), 'p:q');
  t.is(basicPassword(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
});

test('token comparison is exact and refuses an empty expected token', (t) => {
  t.true(tokenEquals('secret-token', 'secret-token'));
  t.false(tokenEquals('secret-token', 'secret-tokeN'));
  t.false(tokenEquals('secret-toke', 'secret-token'));
  t.false(tokenEquals('', ''));
  t.true(isAuthorized('Bearer tok', 'tok'));
  t.false(isAuthorized(`Basic ${Buffer.from('u:tok').toString('base64')}`, 'tok'));
  t.true(isAuthorized(`Basic ${Buffer.from('u:tok').toString('base64')}`, 'tok', true));
});

test('body parsing: JSON with BOM, empty and broken bodies', (t) => {
  t.deepEqual(parseJsonBytes(Buffer.from('\uFEFF{"a":1}')), { ok: true, value: { a: 1 } });
  const empty = parseJsonBytes(Buffer.from('  '));
  t.false(empty.ok);
  const broken = parseJsonBytes(Buffer.from('{'));
  t.true(!broken.ok && broken.reply.status === 400);
});
