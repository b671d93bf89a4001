import 'reflect-metadata';
import { createServer, type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { WebSocketServer } from 'ws';
import { startRawConnector } from './raw-connector.js';
import {
  assertWarnsFirstAndEveryTenth,
  sleep,
  startHarness,
  upgradeAnswering,
  waitUntil,
} from './relay-harness.js';

const line = (frame: unknown) => `${JSON.stringify(frame)}\n`;
const inbound = (text: string) => ({
  type: 'inbound',
  event: { text, source: { platform: 'relay', chat_id: 'c' } },
});

import { recordSockets } from './socket-recorder.js';

/** A TCP server on loopback that accepts and never answers (no upgrade); its URL. */
async function blackhole(t: ExecutionContext): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

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

test('a connector that never answers the upgrade: handshake timeout in the upgrade phase; stop is bounded', async (t) => {
  const h = await startHarness(t, {
    config: { relay: { url: await blackhole(t), handshakeTimeoutMs: 50 } },
  });
  const line = await h.sink.waitFor((l) => l.code === 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT');
  t.is(line.phase, 'upgrade');
  t.is(h.client.state, 'connecting');
  await h.client.stop();
  t.is(h.client.state, 'stopped');
});

test('a connector that never answers, at every dial: each handshake timeout counted, the first and every tenth a warning', async (t) => {
  const relay = { url: await blackhole(t), handshakeTimeoutMs: 20, backoffBaseMs: 1, backoffMaxMs: 2 };
  const h = await startHarness(t, { config: { relay } });
  const timeouts = () => h.sink.withCode('CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT');
  await waitUntil(() => timeouts().length >= 12, 10_000, '12 handshake timeouts');
  // was: a warning at every attempt
  assertWarnsFirstAndEveryTenth(t, timeouts().slice(0, 12));
  const counted = await h.metrics.value('relay_errors_total', {
    code: 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT',
  });
  t.true(counted >= 12);
});

test('a refused dial (nothing listening) is reported and retried with backoff', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const h = await startHarness(t, { config: { relay: { url: `ws://127.0.0.1:${port}` } } });
  await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').length >= 2);
  t.is(h.client.state, 'connecting');
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED')[0]?.errCode, 'ECONNREFUSED');
});

test('a connector that stays unreachable: every dial failure counted, the first and every tenth a warning', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const url = `ws://127.0.0.1:${port}`;
  const h = await startHarness(t, { config: { relay: { url, backoffBaseMs: 1, backoffMaxMs: 2 } } });
  await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').length >= 12);
  const lines = h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').slice(0, 12);
  assertWarnsFirstAndEveryTenth(t, lines);
  t.true((await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_TRANSPORT_DIAL_FAILED' })) >= 12);
});

test('an HTTP error answer to the upgrade is a dial failure, retried', async (t) => {
  const port = await upgradeAnswering(t, '503 Service Unavailable');
  const h = await startHarness(t, { config: { relay: { url: `http://127.0.0.1:${port}` } } });
  await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').length >= 2);
  t.regex(String(h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED')[0]?.err), /503/);
  t.is(h.client.state, 'connecting');
});

test('each HTTP answer to the upgrade is told apart by its status; a redirect is not followed, its target not logged', async (t) => {
  const answers = [
    '401 Unauthorized',
    '403 Forbidden',
    '404 Not Found',
    '302 Found\r\nLocation: http://elsewhere.example/relay?token=abc',
  ];
  for (const answer of answers) {
    const port = await upgradeAnswering(t, answer);
    const h = await startHarness(t, { config: { relay: { url: `http://127.0.0.1:${port}` } } });
    await waitUntil(() => h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').length >= 2);
    await h.client.stop();
    const failed = h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED');
    t.true(
      failed.every((l) => l.httpStatus === Number(answer.slice(0, 3))),
      answer,
    );
    t.false(h.sink.text().includes('elsewhere'));
  }
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

test('a connector that accepts and closes at once, every time: each is a failed dial, reported like one, with backoff', async (t) => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.close(1011, 'not now'));
  t.teardown(() => new Promise<void>((r) => wss.close(() => r())));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  const h = await startHarness(t, { config: { relay: { url, backoffBaseMs: 1, backoffMaxMs: 2 } } });
  await waitUntil(() => h.sink.withMsg('relay socket closed').length >= 12, 10_000, '12 closes');
  const failed = h.sink.withCode('CORE_ERR_TRANSPORT_DIAL_FAILED').slice(0, 12);
  t.is(failed.length, 12);
  t.deepEqual(
    failed.map((l) => [l.failedBefore, l.level, l.closeCode, l.reason]),
    failed.map((_, i) => [i, i % 10 === 0 ? 40 : 20, 1011, 'not now']),
  );
  t.is(h.client.state, 'connecting');
  // the ladder climbs: no hot loop
  t.deepEqual(
    h.sink
      .withMsg('relay redial scheduled')
      .slice(0, 3)
      .map((l) => l.attempt),
    [1, 2, 3],
  );
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
