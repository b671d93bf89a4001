/**
 * The relay client's failed dials, each counted, reported (the first and every tenth a warning) and
 * retried with backoff: a connector that never answers the upgrade (handshake timeout, bounded stop), a
 * refused dial, an HTTP answer to the upgrade told apart by status (a redirect not followed), and a
 * connector that accepts and closes at once.
 */
import 'reflect-metadata';
import { createServer, type Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { WebSocketServer } from 'ws';
import { assertWarnsFirstAndEveryTenth, startHarness, upgradeAnswering, waitUntil } from './relay-harness.js';

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
