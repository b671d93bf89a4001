import { request } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { upgradeToken } from '../../../core/transport/auth-token.js';
import { DevConnector, type DevConnectorOptions } from '../../../sidecar/dev-connector/index.js';
import { openPeer } from './sidecar-peer.js';

async function start(t: ExecutionContext, options: DevConnectorOptions = {}): Promise<DevConnector> {
  const dc = await DevConnector.start(options);
  t.teardown(() => dc.close());
  return dc;
}

/** A clock the test moves by hand (unix seconds). */
function fakeClock(startS = 1_754_700_000) {
  const clock = { now: startS };
  return {
    clock,
    nowS: () => clock.now,
    token: (secret: string) => upgradeToken('gw-1', secret, clock.now * 1000),
  };
}

test('a valid token is accepted and recorded with its gateway id', async (t) => {
  const c = fakeClock();
  const dc = await start(t, { secrets: ['s1'], nowS: c.nowS });
  t.regex(dc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const peer = await openPeer(t, dc.url, { token: c.token('s1') });
  peer.send({ type: 'hello', platform: 'discord', botId: 'b' });
  await peer.next((f) => f.type === 'descriptor');
  t.deepEqual(dc.upgrades, [{ path: '/relay', authorized: true, status: 101, gatewayId: 'gw-1' }]);
  t.is(dc.connectionCount(), 1);
  t.is(dc.totalConnections(), 1);
});

for (const [name, reason] of [
  ['missing', 'missing'],
  ['wrong secret', 'invalid'],
  ['expired', 'expired'],
] as const) {
  test(`token ${name}: upgrade completes, then close 4401 "${reason}"`, async (t) => {
    const c = fakeClock();
    const dc = await start(t, { secrets: ['s1'], nowS: c.nowS });
    const token = name === 'missing' ? undefined : c.token(name === 'expired' ? 's1' : 'nope');
    if (name === 'expired') c.clock.now += 301;
    const peer = await openPeer(t, dc.url, token ? { token } : {});
    t.deepEqual(await peer.closed, { code: 4401, reason });
    t.deepEqual(dc.upgrades, [{ path: '/relay', authorized: false, status: 101, reason }]);
    t.is(dc.totalConnections(), 0, 'a rejected dial is not a connection');
    t.is(dc.frames.length, 0);
  });
}

test('rotation: a token signed with the old secret is accepted; setSecrets applies to later dials', async (t) => {
  const c = fakeClock();
  const dc = await start(t, { secrets: ['new', 'old'], nowS: c.nowS });
  await openPeer(t, dc.url, { token: c.token('old') });
  dc.setSecrets(['new']);
  const late = await openPeer(t, dc.url, { token: c.token('old') });
  t.is((await late.closed).code, 4401);
  t.deepEqual(
    dc.upgrades.map((u) => u.authorized),
    [true, false],
  );
  t.is(dc.connectionCount(), 1, 'the earlier connection stays up');
});

test('without secrets any dial is accepted, with or without a token', async (t) => {
  const dc = await start(t);
  await openPeer(t, dc.url);
  await openPeer(t, dc.url, { token: 'anything' });
  t.deepEqual(
    dc.upgrades.map((u) => [u.authorized, u.status]),
    [
      [true, 101],
      [true, 101],
    ],
  );
});

test('an upgrade on a path not ending in /relay gets HTTP 400; a prefixed /relay path is fine', async (t) => {
  const dc = await start(t);
  for (const path of ['/', '/relay/', '/relay/x', '/other']) {
    const err = await t.throwsAsync(openPeer(t, dc.url, { path }));
    t.is((err as Error & { status?: number }).status, 400, path);
  }
  await openPeer(t, dc.url, { path: '/api/relay?tenant=a' });
  t.deepEqual(
    dc.upgrades.map((u) => [u.path, u.status]),
    [
      ['/', 400],
      ['/relay/', 400],
      ['/relay/x', 400],
      ['/other', 400],
      ['/api/relay', 101],
    ],
  );
});

/** GET a path; resolves with status and parsed JSON body. */
function get(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('plain HTTP goes to sideRoutes first; unhandled is a JSON 404; a throwing route is a JSON 500', async (t) => {
  const dc = await start(t, {
    sideRoutes: (req, res) => {
      if (req.url === '/boom') throw new Error('boom');
      if (req.url !== '/relay/policy') return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return true;
    },
  });
  t.deepEqual(await get(`${dc.url}/relay/policy`), { status: 200, body: { ok: true } });
  t.deepEqual(await get(`${dc.url}/nope`), { status: 404, body: { error: 'not found', path: '/nope' } });
  t.is((await get(`${dc.url}/boom`)).status, 500);
  t.is((await get(`${(await start(t)).url}/relay/enroll`)).status, 404, 'no sideRoutes: 404');
});
