import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { enroll } from '../../../sidecar/side-routes/enroll.js';
import { closedPort, connector, scripted } from './loopback.js';

const IDENTITY = 'identity-token-abcdef0123';
const ENROLL = 'enrol-token-xyz-98765';

function input(base: string) {
  return { base, identityToken: IDENTITY, enrollmentToken: ENROLL, gatewayId: 'gw-1', timeoutMs: 2_000 };
}

async function failure(t: import('ava').ExecutionContext, p: Promise<unknown>): Promise<RelayError> {
  const err = await t.throwsAsync(p);
  t.true(err instanceof RelayError);
  const e = err as RelayError;
  t.is(e.code, 'CORE_ERR_ENROLL_FAILED');
  // No credential ever reaches an error message.
  t.false(e.message.includes(IDENTITY));
  t.false(e.message.includes(ENROLL));
  return e;
}

test('enrols against the dev connector side routes and returns the credentials', async (t) => {
  const c = await connector(t, {
    identityTokens: [IDENTITY],
    enrollmentTokens: new Map([[ENROLL, { tenant: 't-9' }]]),
  });
  const creds = await enroll({ ...input(`${c.base}/`), wakeUrl: 'https://wake.example/w' });
  t.is(creds.gatewayId, 'gw-1');
  t.is(creds.tenant, 't-9');
  t.regex(creds.secret, /^[0-9a-f]{64}$/);
  t.regex(creds.deliveryKey, /^[0-9a-f]{64}$/);
  t.deepEqual(c.routes.secretsFor('gw-1'), [creds.secret]);
  t.deepEqual(c.routes.calls, [
    {
      route: 'enroll',
      status: 200,
      gatewayId: 'gw-1',
      body: { gatewayId: 'gw-1', wakeUrl: 'https://wake.example/w' },
    },
  ]);
});

test('sends the contract body and the identity bearer; a ws(s) or /relay base works', async (t) => {
  const srv = await scripted(t, () => ({
    status: 200,
    body: { secret: 's'.repeat(64), deliveryKey: 'd', tenant: 't', gatewayId: 'gw-1', extra: 1 },
  }));
  const creds = await enroll(input(`${srv.base.replace('http', 'ws')}/relay`));
  t.deepEqual(creds, { secret: 's'.repeat(64), deliveryKey: 'd', tenant: 't', gatewayId: 'gw-1' });
  t.is(srv.seen[0]?.path, '/relay/enroll');
  t.is(srv.seen[0]?.headers.authorization, `Bearer ${IDENTITY}`);
  t.deepEqual(JSON.parse(srv.seen[0]!.body.toString()), { enrollmentToken: ENROLL, gatewayId: 'gw-1' });
});

test('401: identity token rejected, with details.status', async (t) => {
  const c = await connector(t, { identityTokens: ['another'] });
  const err = await failure(t, enroll(input(c.base)));
  t.is(err.details?.status, 401);
  t.is(err.details?.kind, 'http');
  t.regex(err.message, /GATEWAY_RELAY_IDENTITY_TOKEN/);
});

test('403: a used enrolment token is refused the second time', async (t) => {
  const c = await connector(t, { enrollmentTokens: [ENROLL] });
  await enroll(input(c.base));
  const err = await failure(t, enroll(input(c.base)));
  t.is(err.details?.status, 403);
  t.is(c.routes.calls.map((x) => x.status).join(','), '200,403');
});

test('another status: HTTP <code>: <error>, with secrets scrubbed from the server text', async (t) => {
  const srv = await scripted(t, () => ({ status: 500, body: { error: `db down for ${IDENTITY}` } }));
  const err = await failure(t, enroll(input(srv.base)));
  t.is(err.details?.status, 500);
  t.true(err.message.startsWith('HTTP 500: db down for'));
});

test('an answer without a secret is a bad response naming the key, not the body', async (t) => {
  const srv = await scripted(t, () => ({
    status: 200,
    body: { deliveryKey: 'dk-secret-value', tenant: 't', gatewayId: 'g' },
  }));
  const err = await failure(t, enroll(input(srv.base)));
  t.is(err.details?.kind, 'bad-response');
  t.false(err.message.includes('dk-secret-value'));
});

test('timeout and unreachable connector', async (t) => {
  const slow = await scripted(t, () => 'hang');
  const timeout = await failure(t, enroll({ ...input(slow.base), timeoutMs: 50 }));
  t.is(timeout.details?.kind, 'timeout');
  const unreachable = await failure(t, enroll(input(`http://127.0.0.1:${await closedPort()}`)));
  t.is(unreachable.details?.kind, 'unreachable');
});

test('a cross-host redirect never forwards the identity token', async (t) => {
  const other = await scripted(t, () => ({ status: 200, body: {} }));
  const first = await scripted(t, () => ({
    status: 307,
    headers: { location: `${other.base}/relay/enroll` },
  }));
  const err = await failure(t, enroll(input(first.base)));
  t.is(err.details?.kind, 'redirect');
  t.is(other.seen.length, 0);
});

test('a malformed base URL fails as the route error with kind bad-url', async (t) => {
  const err = await failure(t, enroll(input('ftp://nope')));
  t.is(err.details?.kind, 'bad-url');
});
