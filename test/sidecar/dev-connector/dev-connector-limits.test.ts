import { connect, type Socket } from 'node:net';
import test from 'ava';
import { DevConnector } from '../../../sidecar/dev-connector/index.js';
import { barrier, handshake, openPeer } from './sidecar-peer.js';

/** A raw TCP client that completes the WebSocket upgrade and then ignores everything (a straggler). */
async function rawStraggler(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  sock.write(
    'GET /relay HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve) => {
    sock.once('data', (d) => {
      if (d.toString('latin1').startsWith('HTTP/1.1 101')) resolve();
    });
  });
  return sock;
}

test('close is bounded: a peer that never answers the close frame is terminated', async (t) => {
  const dc = await DevConnector.start();
  const sock = await rawStraggler(dc.port);
  t.teardown(() => sock.destroy());
  const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  const polite = await handshake(t, dc.url);
  await dc.close();
  await ended;
  t.is((await polite.closed).code, 1001, 'a well-behaved peer gets 1001');
  t.is(dc.totalConnections(), 2);
  t.is(dc.connectionCount(), 0);
  const err = await t.throwsAsync(openPeer(t, dc.url));
  t.truthy(err, 'no longer listening');
});

test('a message over maxPayload closes that socket with 1009; the connector keeps serving', async (t) => {
  const dc = await DevConnector.start({ maxPayload: 1024 });
  t.teardown(() => dc.close());
  const big = await handshake(t, dc.url);
  big.send(`{"type":"going_idle","pad":"${'x'.repeat(2000)}"}\n`);
  t.is((await big.closed).code, 1009);
  const next = await handshake(t, dc.url);
  await barrier(next);
  t.is(dc.connectionCount(), 1);
});

test('a partial line longer than the cap is dropped and recorded as __overflow', async (t) => {
  const dc = await DevConnector.start({ maxPayload: 100 });
  t.teardown(() => dc.close());
  const peer = await handshake(t, dc.url);
  for (let i = 0; i < 3; i++) peer.send(`{"pad":"${'y'.repeat(60)}`);
  await dc.waitFor((f) => f.frame.type === '__overflow');
  peer.send('\n{"type":"going_idle"}\n');
  await peer.next((f) => f.type === 'going_idle_ack');
  const types = dc.frames.filter((f) => f.dir === 'in').map((f) => f.frame.type);
  // the third chunk starts a new partial after the drop; completed by '\n' it is a malformed line
  t.deepEqual(types, ['hello', '__overflow', '__malformed', 'going_idle']);
});

test('maxRecorded bounds the frame log, oldest dropped first', async (t) => {
  const dc = await DevConnector.start({ maxRecorded: 4 });
  t.teardown(() => dc.close());
  const peer = await handshake(t, dc.url);
  for (let i = 0; i < 3; i++) await barrier(peer);
  t.is(dc.frames.length, 4);
  t.deepEqual(
    dc.frames.map((f) => `${f.dir}:${String(f.frame.type)}`),
    ['in:going_idle', 'out:going_idle_ack', 'in:going_idle', 'out:going_idle_ack'],
  );
});

test('pauseReading holds what the peer sends, pings included, until resumed; then all of it is read', async (t) => {
  const dc = await DevConnector.start();
  t.teardown(() => dc.close());
  const peer = await handshake(t, dc.url);
  let ponged = false;
  const pong = new Promise<void>((resolve) =>
    peer.ws.once('pong', () => {
      ponged = true;
      resolve();
    }),
  );
  const resume = dc.pauseReading();
  peer.send({ type: 'going_idle' });
  peer.ws.ping();
  // the paused connector still writes: this round trip shows the peer's frames had time to land
  dc.send({ type: 'going_idle_ack', marker: 'written while paused' });
  await peer.next((f) => f.marker === 'written while paused');
  await new Promise((r) => setTimeout(r, 200));
  t.false(ponged, 'no pong while paused');
  t.false(
    dc.frames.some((f) => f.dir === 'in' && f.frame.type === 'going_idle'),
    'nothing read while paused',
  );
  resume();
  await pong;
  await dc.waitFor((f) => f.dir === 'in' && f.frame.type === 'going_idle');
  await peer.next((f) => f.type === 'going_idle_ack' && f.marker === undefined);
  t.pass();
});
