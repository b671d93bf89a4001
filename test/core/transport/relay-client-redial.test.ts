/**
 * The relay client redialing a real ws connector on loopback: a dropped connection goes reconnecting then
 * ready again, exactly one dialer whatever starts, drops and failed handshakes happen, a drop soon after
 * the handshake climbs the backoff ladder while a stable connection resets it, and stop cancels a backoff
 * wait.
 */
import 'reflect-metadata';
import test from 'ava';
import { sleep, startHarness, waitUntil } from './relay-harness.js';
import { recordSockets } from './socket-recorder.js';

test('a dropped connection is redialed: reconnecting, then ready again', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.dc.drop();
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  t.deepEqual(h.states, ['ready', 'reconnecting', 'ready']);
  t.is(await h.metrics.value('relay_reconnects_total'), 1);
  t.is(await h.metrics.value('relay_socket_closes_total', { code: '1012' }), 1);
  t.is(await h.metrics.value('relay_state', { state: 'ready' }), 1);
  t.is(await h.metrics.value('relay_state', { state: 'reconnecting' }), 0);
});

test('exactly one dialer: repeated starts, drops and failed handshakes never hold two sockets', async (t) => {
  const rec = recordSockets();
  const h = await startHarness(t, {
    socketFactory: rec.factory,
    config: { relay: { handshakeTimeoutMs: 40 } },
  });
  h.client.start();
  h.client.start();
  await h.waitState('ready');
  for (let i = 0; i < 4; i++) {
    const before = h.dc.totalConnections();
    h.dc.drop();
    await waitUntil(() => h.dc.totalConnections() > before && h.client.state === 'ready');
    h.client.start();
  }
  h.dc.setDescriptorFor(() => null); // now every handshake times out and is redialed
  h.dc.drop();
  await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT').length >= 3);
  t.is(rec.maxAlive(), 1);
  t.true(rec.alive() <= 1);
  t.true(rec.dials.length >= 8);
  t.is(await h.metrics.value('relay_reconnects_total'), rec.dials.length - 1);
});

test('a drop soon after the handshake climbs the ladder; a stable connection resets it', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { stableAfterMs: 300, backoffBaseMs: 5, backoffMaxMs: 20 } },
  });
  const attempts = () => h.sink.withMsg('relay redial scheduled').map((l) => l.attempt);
  for (let i = 1; i <= 3; i++) {
    await waitUntil(() => h.client.state === 'ready' && h.dc.totalConnections() === i);
    h.dc.drop(); // well before stableAfterMs
    await waitUntil(() => attempts().length === i);
  }
  t.deepEqual(attempts(), [1, 2, 3]);
  await waitUntil(() => h.client.state === 'ready' && h.dc.totalConnections() === 4);
  await sleep(400); // stable
  h.dc.drop();
  await waitUntil(() => attempts().length === 4);
  t.is(attempts()[3], 1);
});

test('stop during a backoff wait cancels the redial', async (t) => {
  const h = await startHarness(t, { config: { relay: { backoffBaseMs: 10_000, backoffMaxMs: 10_000 } } });
  await h.waitState('ready');
  h.dc.drop();
  await h.waitState('reconnecting');
  await h.client.stop();
  await sleep(50);
  t.is(h.dc.totalConnections(), 1);
  t.is(h.client.state, 'stopped');
});
