/**
 * The relay client's acks and going idle against a real ws connector on loopback: ackInbound acknowledging
 * a buffered delivery (un-acked ones replayed on reconnect), and goingIdle's request, shared wait,
 * timeout, ignored unsolicited ack and stop.
 */
import 'reflect-metadata';
import test from 'ava';
import { send, startHarness, waitUntil } from './relay-harness.js';

test('ackInbound acknowledges a buffered delivery; un-acked ones are replayed on reconnect', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  const acked = h.dc.sendBuffered({
    type: 'inbound',
    event: { text: 'one', source: { platform: 'discord' } },
  });
  const kept = h.dc.sendBuffered({
    type: 'inbound',
    event: { text: 'two', source: { platform: 'discord' } },
  });
  await waitUntil(() => h.routed.inbound.length === 2);
  t.true(h.client.ackInbound(acked));
  await waitUntil(() => h.dc.pendingBuffered().length === 1);
  t.deepEqual(h.dc.pendingBuffered(), [kept]);
  t.is(await h.metrics.value('relay_inbound_acks_total'), 1);
  h.dc.drop();
  await waitUntil(() => h.routed.inbound.length === 3);
  t.is(h.routed.inbound[2]?.bufferId, kept);
});

test('goingIdle: going_idle → ack ⇒ true and state idle; inbound is still served', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  t.true(await h.client.goingIdle());
  t.is(h.client.state, 'idle');
  t.is(h.received('going_idle').length, 1);
  t.true(await h.client.goingIdle()); // already idle: nothing more sent
  t.is(h.received('going_idle').length, 1);
  h.dc.send({ type: 'inbound', event: { text: 'late', source: { platform: 'discord' } } });
  await waitUntil(() => h.routed.inbound.length === 1);
  t.true((await h.client.send(send())).success);
});

test('two goingIdle calls before the ack share one request and both see it', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  const [first, second] = await Promise.all([h.client.goingIdle(), h.client.goingIdle()]);
  t.deepEqual([first, second], [true, true]);
  t.is(h.received('going_idle').length, 1);
  t.is(h.client.state, 'idle');
});

test('goingIdle without an ack ⇒ false after the timeout, reported, state unchanged', async (t) => {
  const h = await startHarness(t, { dc: { answerGoingIdle: false } });
  await h.waitState('ready');
  t.false(await h.client.goingIdle(50));
  t.is(h.client.state, 'ready');
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT').length, 1);
});

test('an unsolicited going_idle_ack is ignored', async (t) => {
  const h = await startHarness(t);
  await h.waitState('ready');
  h.dc.send({ type: 'going_idle_ack' });
  await waitUntil(() => h.sink.withMsg('going_idle_ack without a request ignored').length === 1);
  t.is(h.client.state, 'ready');
});

test('stop while going idle resolves the wait as not acked', async (t) => {
  const h = await startHarness(t, { dc: { answerGoingIdle: false } });
  await h.waitState('ready');
  const idle = h.client.goingIdle(5_000);
  await waitUntil(() => h.received('going_idle').length === 1);
  await h.client.stop();
  t.false(await idle);
});
