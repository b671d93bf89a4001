/**
 * The relay client deciding a connection is dead or alive: no pong in time terminates and redials, a close
 * frame then silence redials without waiting for the pong timeout, close code labels are bounded, data
 * arriving when the pong is due counts as life, and a connector that stops reading is still declared dead.
 */
import 'reflect-metadata';
import test from 'ava';
import { startRawConnector } from './raw-connector.js';
import { startHarness, waitUntil } from './relay-harness.js';

const line = (frame: unknown) => `${JSON.stringify(frame)}\n`;

const inbound = (text: string) => ({
  type: 'inbound',
  event: { text, source: { platform: 'relay', chat_id: 'c' } },
});

test('keepalive: no pong in time ⇒ the socket is declared dead, terminated and redialed', async (t) => {
  const h = await startHarness(t, {
    dc: { autoPong: false },
    config: { relay: { pingIntervalMs: 30, pongTimeoutMs: 60 } },
  });
  await h.waitState('ready');
  const dead = await h.sink.waitFor((l) => l.code === 'CORE_ERR_TRANSPORT_PONG_TIMEOUT');
  t.is(dead.pongTimeoutMs, 60);
  await waitUntil(() => h.dc.totalConnections() >= 2);
  const closed = h.sink.withMsg('relay socket closed')[0];
  t.is(closed?.cause, 'pong_timeout');
});

test('a close frame and then silence (TCP left open): the client redials without waiting for the pong timeout', async (t) => {
  // ws waits 30 s for the peer to end TCP after the close handshake; a connector that crashed or
  // a path that died right after its close frame held the client in `ready` with no socket to send on
  const raw = await startRawConnector(t, (_ws, index) => {
    if (index > 0) return;
    const tcp = raw.tcp[0];
    tcp?.write(Buffer.from([0x88, 0x02, 0x03, 0xf4])); // FIN + close, 2-byte payload: code 1012
    tcp?.pause(); // read nothing more (the client's close frame, its pings) and never end
  });
  const h = await startHarness(t, { config: { relay: { url: raw.url, pongTimeoutMs: 60_000 } } });
  await waitUntil(
    () => raw.sockets.length === 2 && h.client.state === 'ready',
    10_000,
    'a second connection',
  );
  t.deepEqual(h.states, ['ready', 'reconnecting', 'ready']);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT').length, 0);
  t.is(h.sink.withMsg('relay socket closed')[0]?.closeCode, 1012);
});

test('close codes come from the connector: their metric label is bounded like other outside values', async (t) => {
  const h = await startHarness(t);
  const codes = Array.from({ length: 40 }, (_, i) => 4_100 + i);
  for (const [i, code] of codes.entries()) {
    await waitUntil(() => h.client.state === 'ready' && h.dc.totalConnections() === i + 1);
    h.dc.drop(code, 'bye');
  }
  await waitUntil(() => h.sink.withMsg('relay socket closed').length === codes.length);
  const series = (await h.metrics.registry.getSingleMetric('relay_socket_closes_total')?.get())?.values ?? [];
  t.true(series.length <= 33, `${series.length} series`);
  t.is(
    series.reduce((sum, v) => sum + v.value, 0),
    codes.length,
  );
  t.is(series.find((v) => v.labels.code === 'other')?.value, codes.length - 32);
  // the log keeps the exact code
  t.deepEqual(
    h.sink.withMsg('relay socket closed').map((l) => l.closeCode),
    codes,
  );
});

test('a message still arriving when the pong is due (a slow link): data counts as life, the socket is kept', async (t) => {
  // the pong to a ping sent meanwhile queues behind the message on the wire; declaring the
  // socket dead mid-message lost the message, and a buffered one replayed first on every
  // reconnect would never get through
  const text = 'z'.repeat(30_000);
  const payload = Buffer.from(
    `${JSON.stringify({ type: 'inbound', event: { text, source: { platform: 'relay', chat_id: 'c' } } })}\n`,
  );
  let trickling = false;
  let heldPongs = 0;
  const raw = await startRawConnector(
    t,
    (ws, index) => {
      ws.on('ping', () => {
        if (trickling) heldPongs += 1;
        else ws.pong();
      });
      if (index > 0) return;
      const tcp = raw.tcp[0];
      // one unmasked text frame, 16-bit length, written by hand a slice at a time
      tcp?.write(Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]));
      trickling = true;
      const slices = 40;
      const size = Math.ceil(payload.length / slices);
      let i = 0;
      const timer = setInterval(() => {
        tcp?.write(payload.subarray(i * size, (i + 1) * size));
        i += 1;
        if (i < slices) return;
        clearInterval(timer);
        trickling = false;
        for (; heldPongs > 0; heldPongs -= 1) ws.pong();
      }, 75);
      t.teardown(() => clearInterval(timer));
    },
    { autoPong: false },
  );
  const h = await startHarness(t, {
    config: { relay: { url: raw.url, pingIntervalMs: 50, pongTimeoutMs: 750 } },
  });
  await waitUntil(
    () => h.routed.inbound.length === 1 || raw.sockets.length > 1,
    15_000,
    'the message or a redial',
  );
  t.true(h.routed.inbound[0]?.event.text === text, 'the slow message arrived whole');
  t.is(raw.sockets.length, 1);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT').length, 0);
});

test('a connector that stops reading but keeps sending whole frames is still declared dead (no pong)', async (t) => {
  // its data proves the path, not that it reads: acks and outbound would pile up unanswered
  const raw = await startRawConnector(t, (ws, index) => {
    if (index > 0) return;
    raw.tcp[0]?.pause(); // reads nothing more: no pongs
    let n = 0;
    const timer = setInterval(() => ws.send(line(inbound(`chatty ${n++}`))), 20);
    ws.on('close', () => clearInterval(timer));
    t.teardown(() => clearInterval(timer));
  });
  const h = await startHarness(t, {
    config: { relay: { url: raw.url, pingIntervalMs: 50, pongTimeoutMs: 300 } },
  });
  await waitUntil(() => raw.sockets.length === 2, 10_000, 'a redial');
  t.true(h.routed.inbound.length > 0);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_PONG_TIMEOUT').length, 1);
});
