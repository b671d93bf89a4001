import 'reflect-metadata';
import test from 'ava';
import { sleep, startHarness, waitUntil } from './relay-harness.js';

const inbound = (text: string) => ({ type: 'inbound', event: { text, source: { platform: 'discord' } } });

test('pauseReading stops routing until resumed; nothing is lost', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.client.pauseReading(true);
  h.dc.send(inbound('held'));
  await sleep(100);
  t.is(h.routed.inbound.length, 0);
  h.client.pauseReading(false);
  await waitUntil(() => h.routed.inbound.length === 1);
  t.is(h.routed.inbound[0]?.event.text, 'held');
});

test('while paused, keepalive is suspended: a long pause is not a dead peer', async (t) => {
  const h = await startHarness(t, { config: { relay: { pingIntervalMs: 20, pongTimeoutMs: 60 } } });
  await h.waitState('ready');
  h.client.pauseReading(true);
  await sleep(250);
  h.client.pauseReading(false);
  await sleep(50);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT').length, 0);
  t.is(h.dc.totalConnections(), 1);
  t.is(h.client.state, 'ready');
});

test('a new connection inherits the pause, applied after its handshake', async (t) => {
  const h = await startHarness(t, { noStart: true });
  h.client.pauseReading(true);
  h.client.start();
  // The descriptor is still read: the pause takes effect once the handshake is done.
  await h.waitState('ready');
  h.dc.send(inbound('after handshake'));
  await sleep(100);
  t.is(h.routed.inbound.length, 0);
  h.client.pauseReading(false);
  await waitUntil(() => h.routed.inbound.length === 1);
});

test('a drop while paused is seen on resume, and the client reconnects', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.client.pauseReading(true);
  h.dc.drop();
  await sleep(50);
  h.client.pauseReading(false);
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  t.pass();
});
