import 'reflect-metadata';
import test from 'ava';
import { type Clock, systemClock } from '../../../core/di/clock.js';
import { verifyToken } from '../../../core/transport/auth-token.js';
import { assertWarnsFirstAndEveryTenth, sleep, startHarness, waitUntil } from './relay-harness.js';
import { recordSockets } from './socket-recorder.js';

const SECRET = 'S3cr3t-never-in-logs-7f1d2c';
const auth = { gatewayId: 'gw-1', secret: SECRET };

test('every dial carries a freshly minted bearer token that the connector accepts', async (t) => {
  let skewMs = 0;
  const clock: Clock = { ...systemClock, now: () => Date.now() + skewMs };
  const rec = recordSockets();
  const h = await startHarness(t, {
    clock,
    socketFactory: rec.factory,
    config: { relay: auth },
    dc: { secrets: ['older-secret', SECRET], nowS: () => (Date.now() + skewMs) / 1000 },
  });
  await h.waitState('ready');
  // Ten minutes later a reused token would have expired (ttl 300 s): the redial must mint anew.
  skewMs += 600_000;
  h.dc.drop();
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  const tokens = rec.tokens();
  t.is(tokens.length, 2);
  t.not(tokens[0], tokens[1]);
  t.true(h.dc.upgrades.every((u) => u.authorized && u.gatewayId === 'gw-1'));
  const second = verifyToken(tokens[1] ?? '', [SECRET], (Date.now() + skewMs) / 1000);
  t.true(second.ok);
  if (second.ok) t.true(second.exp > (Date.now() + skewMs) / 1000);
  t.is(verifyToken(tokens[0] ?? '', [SECRET], (Date.now() + skewMs) / 1000).ok, false);
});

test('the client sets maxPayload and refuses redirects on every dial', async (t) => {
  const rec = recordSockets();
  const h = await startHarness(t, {
    socketFactory: rec.factory,
    config: { relay: { maxPayloadBytes: 4_096 } },
  });
  await h.waitState('ready');
  t.is(rec.dials[0]?.options.maxPayload, 4_096);
  t.is(rec.dials[0]?.options.followRedirects, false);
  t.regex(rec.dials[0]?.url ?? '', /^ws:\/\/127\.0\.0\.1:\d+\/relay$/);
});

test('without id and secret: no Authorization header, one warning for all dials', async (t) => {
  const rec = recordSockets();
  const h = await startHarness(t, { socketFactory: rec.factory });
  await h.waitState('ready');
  h.dc.drop();
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  t.true(rec.dials.every((d) => !('Authorization' in ((d.options.headers as object) ?? {}))));
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHENTICATED').length, 1);
});

test('4401 before any handshake is retried with backoff (cold-start race), never revoked', async (t) => {
  const h = await startHarness(t, { config: { relay: auth }, dc: { secrets: ['not-yet-provisioned'] } });
  await waitUntil(() => h.dc.upgrades.length >= 4);
  t.true(h.dc.upgrades.every((u) => !u.authorized && u.reason === 'invalid'));
  t.is(h.client.state, 'connecting');
  t.true(h.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHORIZED').length >= 3);
  h.dc.setSecrets([SECRET]);
  await h.waitState('ready');
});

test('4401 before any handshake, over and over: every one counted, the first and every tenth a warning', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { ...auth, backoffBaseMs: 1, backoffMaxMs: 2 } },
    dc: { secrets: ['not-yet-provisioned'] },
  });
  await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHORIZED').length >= 12);
  const lines = h.sink.withCode('CORE_ERR_TRANSPORT_UNAUTHORIZED').slice(0, 12);
  // a connector that is never provisioned must not flood the log at warn
  assertWarnsFirstAndEveryTenth(t, lines);
  t.true((await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_TRANSPORT_UNAUTHORIZED' })) >= 12);
});

test('4401 "expired" after a handshake reconnects normally, as often as it happens', async (t) => {
  const h = await startHarness(t, { config: { relay: auth }, dc: { secrets: [SECRET] } });
  for (let i = 1; i <= 3; i++) {
    await waitUntil(() => h.client.state === 'ready' && h.dc.totalConnections() === i);
    h.dc.close4401('expired');
  }
  await waitUntil(() => h.client.state === 'ready' && h.dc.totalConnections() === 4);
  t.false(h.states.includes('revoked'));
});

test('a non-expired 4401 after a handshake: one immediate redial; the second ⇒ revoked, no more dials', async (t) => {
  const h = await startHarness(t, {
    // strikes reset after stableAfterMs up: the tests' 200 ms passed between the two closes on a
    // loaded machine, and the second 4401 counted as a first (another immediate redial)
    config: { relay: { ...auth, backoffBaseMs: 5_000, backoffMaxMs: 5_000, stableAfterMs: 60_000 } },
    dc: { secrets: [SECRET] },
  });
  const details: unknown[] = [];
  h.client.onState((s, d) => {
    if (s === 'revoked') details.push(d);
  });
  await h.waitState('ready');
  h.dc.close4401('credentials revoked');
  // Immediate: with a 5 s backoff base, only the no-delay redial can be this quick.
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready', 2_000);
  t.is(h.sink.withMsg('relay redial scheduled')[0]?.delayMs, 0);
  h.dc.close4401('credentials revoked');
  await h.waitState('revoked');
  t.deepEqual(details, [{ code: 'CORE_ERR_TRANSPORT_REVOKED', reason: 'credentials revoked' }]);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_REVOKED').length, 1);
  await sleep(100);
  t.is(h.dc.totalConnections(), 2);
  t.deepEqual(await h.client.send({ op: 'typing', chat_id: 'c', metadata: {} }), {
    success: false,
    error: 'relay transport not connected',
  });
  await h.client.stop();
  t.is(h.client.state, 'stopped');
});

test('a rotated-away secret: the immediate redial is refused too ⇒ revoked', async (t) => {
  const h = await startHarness(t, { config: { relay: auth }, dc: { secrets: [SECRET] } });
  await h.waitState('ready');
  h.dc.setSecrets(['brand-new-secret']);
  h.dc.close4401('secret rotated');
  await h.waitState('revoked');
  t.is(h.dc.upgrades.at(-1)?.authorized, false);
  t.is(h.dc.upgrades.length, 2);
});

test('a connection that stayed up resets the 4401 strikes', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { ...auth, stableAfterMs: 100 } },
    dc: { secrets: [SECRET] },
  });
  await h.waitState('ready');
  h.dc.close4401('kicked');
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  await sleep(200);
  h.dc.close4401('kicked');
  await waitUntil(() => h.dc.totalConnections() === 3 && h.client.state === 'ready');
  t.false(h.states.includes('revoked'));
});

test('neither the secret nor any token ever reaches the logs', async (t) => {
  const rec = recordSockets();
  const h = await startHarness(t, {
    socketFactory: rec.factory,
    config: { relay: { ...auth, handshakeTimeoutMs: 60 } },
    dc: { secrets: [SECRET] },
  });
  await h.waitState('ready');
  await h.client.send({ op: 'send', chat_id: 'c', content: 'x', reply_to: null, metadata: {} });
  h.dc.close4401('expired');
  // A loaded machine may also trip the short handshake timeout here: any redial will do.
  await waitUntil(() => h.dc.totalConnections() >= 2 && h.client.state === 'ready');
  h.dc.setDescriptorFor(() => null);
  h.dc.drop();
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT');
  h.dc.setSecrets(['other']);
  await waitUntil(() => h.dc.upgrades.some((u) => !u.authorized));
  await h.client.stop();
  const text = h.sink.text();
  t.true(h.sink.lines.length > 10);
  t.true(rec.tokens().length >= 3);
  t.false(text.includes(SECRET));
  for (const token of rec.tokens()) t.false(text.includes(token), 'a token leaked into the logs');
  t.false(/Bearer/i.test(text));
});

test("a connector's close reason that quotes the token or the secret is logged without them", async (t) => {
  const rec = recordSockets();
  const h = await startHarness(t, {
    socketFactory: rec.factory,
    config: { relay: auth },
    dc: { secrets: [SECRET] },
  });
  await h.waitState('ready');
  const first = rec.tokens()[0] ?? '';
  t.true(first.length > 16);
  // a careless connector: what it refused, quoted back (a close reason holds at most 123 bytes)
  h.dc.drop(1012, `bad token ${first}`);
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  h.dc.drop(1012, `secret ${SECRET}`);
  await waitUntil(() => h.dc.totalConnections() === 3 && h.client.state === 'ready');
  const closes = h.sink.withMsg('relay socket closed').map((l) => l.reason);
  t.true(closes.includes('bad token [redacted]'), JSON.stringify(closes));
  t.true(closes.includes('secret [redacted]'));
  const text = h.sink.text();
  t.false(text.includes(first), 'the token in the log');
  t.false(text.includes(SECRET), 'the secret in the log');
});
