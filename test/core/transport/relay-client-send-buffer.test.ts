/**
 * The relay client's send buffer against a connector on loopback: a write failing before hand-off is a
 * plain send failure, a connector that stops reading bounds the buffer and refuses later frames (not
 * ambiguous), and frames go out again once it reads.
 */
import 'reflect-metadata';
import test from 'ava';
import type WebSocket from 'ws';
import { defaultSocketFactory, type SocketFactory } from '../../../core/transport/relay-client.js';
import { startRawConnector } from './raw-connector.js';
import { send, startHarness, waitUntil } from './relay-harness.js';

test('a write that fails before hand-off ⇒ send failed (not ambiguous), nothing pending', async (t) => {
  let breakWrites = false;
  // The real socket, with a send that throws once the test says so (a write failing at the source).
  const factory: SocketFactory = (url, options) => {
    const ws = defaultSocketFactory(url, options);
    const realSend = ws.send.bind(ws);
    ws.send = ((...args: Parameters<typeof realSend>) => {
      if (breakWrites) throw new Error('EPIPE simulated');
      return realSend(...args);
    }) as typeof ws.send;
    return ws;
  };
  const h = await startHarness(t, { socketFactory: factory });
  await h.waitState('ready');
  breakWrites = true;
  const r = await h.client.send(send());
  t.deepEqual(r, { success: false, error: 'relay send failed: EPIPE simulated' });
  t.is(h.client.pendingCount(), 0);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SEND_FAILED').length, 1);
  t.is(await h.metrics.value('relay_outbound_results_total', { outcome: 'send_failed' }), 1);
  t.false(h.client.interrupt('k', null));
  t.false(h.client.ackInbound('b'));
});

test('a connector that stops reading: the send buffer is bounded, later frames are refused (not ambiguous) until it drains', async (t) => {
  const raw = await startRawConnector(t, (_ws, index) => raw.tcp[index]?.pause());
  const sockets: WebSocket[] = [];
  const socketFactory: SocketFactory = (url, options) => {
    const ws = defaultSocketFactory(url, options);
    sockets.push(ws);
    return ws;
  };
  const h = await startHarness(t, { socketFactory, config: { relay: { url: raw.url } } });
  await h.waitState('ready');
  const cap = h.config.relay.maxSendBufferBytes;
  const content = 'x'.repeat(100_000);
  // far more than the cap and the kernel's socket buffers together
  const frames = Math.ceil((cap + 32 * 1024 * 1024) / content.length);
  const results = Array.from({ length: frames }, () =>
    h.client.send({ op: 'send', chat_id: 'c1', content, reply_to: null, metadata: {} }),
  );
  t.true((sockets[0]?.bufferedAmount ?? Infinity) <= cap + 2 * content.length);
  t.false(h.client.ackInbound('b-1')); // an ack is refused too: the connector redelivers
  h.client.stop(); // the frames written resolve `closed`; the refused ones already resolved
  const refused = (await Promise.all(results)).filter((r) => /send buffer full/.test(String(r.error)));
  t.true(refused.length > 0);
  t.true(refused.every((r) => r.success === false && r.ambiguous === undefined));
  // the episode is reported once; each refused call as its own send failure
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SEND_BUFFER_FULL').length, 1);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SEND_FAILED').length, refused.length);
});

test('the send buffer drains once the connector reads again: frames go out again', async (t) => {
  const raw = await startRawConnector(t, (_ws, index) => raw.tcp[index]?.pause());
  const h = await startHarness(t, { config: { relay: { url: raw.url, maxSendBufferBytes: 64 * 1024 } } });
  await h.waitState('ready');
  const content = 'y'.repeat(64 * 1024);
  let n = 0;
  while (n < 2_000 && h.client.ackInbound(`b-${n}`)) {
    void h.client.send({ op: 'send', chat_id: 'c1', content, reply_to: null, metadata: {} });
    n += 1;
  }
  t.true(n < 2_000);
  raw.tcp[0]?.resume();
  await waitUntil(() => h.client.ackInbound('b-after'), 10_000, 'an ack written again');
  t.is(raw.sockets.length, 1);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SEND_BUFFER_FULL').length, 1);
  await h.sink.waitFor((l) => l.msg === 'relay send buffer drained');
});
