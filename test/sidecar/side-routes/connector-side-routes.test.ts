import test from 'ava';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { connector } from './loopback.js';

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('side routes answer only their paths; others fall through to the server', async (t) => {
  const c = await connector(t);
  t.is((await fetch(`${c.base}/elsewhere`)).status, 404);
  t.is((await fetch(`${c.base}/relay/enroll`)).status, 405);
  t.is(c.routes.calls.length, 0);
});

test('enroll needs a bearer, a valid body, and a known unused token; onIssue sees the secret', async (t) => {
  const issued: [string, string][] = [];
  const c = await connector(t, { enrollmentTokens: ['tok-1'], onIssue: (g, s) => issued.push([g, s]) });
  const url = `${c.base}/relay/enroll`;
  const auth = { authorization: 'Bearer any-identity' };
  t.is((await post(url, '{}')).status, 401);
  t.is((await post(url, 'not json', auth)).status, 400);
  t.is((await post(url, JSON.stringify({ enrollmentToken: 'nope', gatewayId: 'g' }), auth)).status, 403);
  const ok = await post(url, JSON.stringify({ enrollmentToken: 'tok-1', gatewayId: 'g' }), auth);
  t.is(ok.status, 200);
  t.deepEqual(issued, [['g', ok.json.secret as string]]);
  // Recorded calls never hold the enrolment token.
  t.false(JSON.stringify(c.routes.calls).includes('tok-1'));
});

test('re-enrolment rotates the secret and keeps the previous one valid', async (t) => {
  const c = await connector(t);
  const url = `${c.base}/relay/enroll`;
  const auth = { authorization: 'Bearer id' };
  const a = await post(url, JSON.stringify({ enrollmentToken: 't1', gatewayId: 'g' }), auth);
  const b = await post(url, JSON.stringify({ enrollmentToken: 't2', gatewayId: 'g' }), auth);
  t.deepEqual(c.routes.secretsFor('g'), [b.json.secret, a.json.secret]);
});

test('provision is idempotent on the secret for one gateway id', async (t) => {
  const c = await connector(t);
  const url = `${c.base}/relay/provision`;
  const auth = { authorization: 'Bearer id' };
  const body = (platform: string) =>
    JSON.stringify({ gatewayId: 'g', platform, botId: '', gatewayEndpoint: '', routeKeys: [] });
  const a = await post(url, body('discord'), auth);
  const b = await post(url, body('slack'), auth);
  t.is(a.json.secret, b.json.secret);
  t.is(b.json.secretIssued, true);
  t.is((await post(url, '{"gatewayId":"g"}', auth)).status, 400);
});

test('policy verifies the upgrade token against issued secrets and validates the body', async (t) => {
  const c = await connector(t);
  const auth = { authorization: 'Bearer id' };
  const prov = await post(
    `${c.base}/relay/provision`,
    JSON.stringify({ gatewayId: 'g', platform: 'discord', botId: '', gatewayEndpoint: '', routeKeys: [] }),
    auth,
  );
  const bearer = { authorization: `Bearer ${upgradeToken('g', prov.json.secret as string, Date.now())}` };
  const policy = {
    platform: 'discord',
    requireAddress: false,
    freeResponseScopes: [],
    allowOtherBots: false,
  };
  t.is((await post(`${c.base}/relay/policy`, JSON.stringify(policy), auth)).status, 401);
  t.is((await post(`${c.base}/relay/policy`, JSON.stringify({ ...policy, extra: 1 }), bearer)).status, 400);
  t.is((await post(`${c.base}/relay/policy`, JSON.stringify(policy), bearer)).status, 200);
  t.deepEqual(c.routes.policies.get('g:discord'), policy);
});

test('policyVerify replaces token verification', async (t) => {
  const c = await connector(t, { policyVerify: (tk) => tk === upgradeToken('g', 'x', 0, 0) });
  const policy = { platform: 'p', requireAddress: true, freeResponseScopes: ['a'], allowOtherBots: false };
  const res = await post(`${c.base}/relay/policy`, JSON.stringify(policy), {
    authorization: `Bearer ${upgradeToken('g', 'x', 0, 0)}`,
  });
  t.is(res.status, 200);
  t.truthy(c.routes.policies.get('g:p'));
});

test('media keeps at most maxMediaItems, oldest evicted; unknown ids are 404', async (t) => {
  const c = await connector(t, { secretFor: () => 's', maxMediaItems: 2 });
  const auth = {
    authorization: `Bearer ${upgradeToken('g', 's', Date.now())}`,
    'content-type': 'text/plain',
  };
  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const res = await fetch(`${c.base}/relay/media`, { method: 'POST', body: `m${n}`, headers: auth });
    ids.push(((await res.json()) as { id: string }).id);
  }
  t.deepEqual([...c.routes.media.keys()], ids.slice(1));
  t.is((await fetch(`${c.base}/relay/media/${ids[0]}`)).status, 404);
  t.is(await (await fetch(`${c.base}/relay/media/${ids[2]}`)).text(), 'm3');
});
