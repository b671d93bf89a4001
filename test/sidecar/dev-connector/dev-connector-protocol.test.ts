import test, { type ExecutionContext } from 'ava';
import { DescriptorSchema } from '../../../core/protocol/payloads.js';
import { DevConnector, type DevConnectorOptions } from '../../../sidecar/dev-connector/index.js';
import { barrier, handshake, ofType, openPeer } from './sidecar-peer.js';

async function start(t: ExecutionContext, options: DevConnectorOptions = {}): Promise<DevConnector> {
  const dc = await DevConnector.start(options);
  t.teardown(() => dc.close());
  return dc;
}

const rid = (n: number) => n.toString(16).padStart(32, '0');
const outbound = (n: number, op = 'send') => ({
  type: 'outbound',
  requestId: rid(n),
  action: { op, chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} },
});

test('each hello gets a valid descriptor for its platform; waitForConnection sees the handshake', async (t) => {
  const dc = await start(t);
  const peer = await openPeer(t, dc.url);
  const waiting = dc.waitForConnection(2000);
  peer.send({ type: 'hello', platform: 'discord', botId: 'b1' });
  peer.send({ type: 'hello', platform: 'telegram', botId: 'b2' });
  await peer.next(() => ofType(peer, 'descriptor').length === 2);
  const [first, second] = ofType(peer, 'descriptor').map((f) => f.descriptor as Record<string, unknown>);
  t.is(first?.platform, 'discord');
  t.is(second?.platform, 'telegram');
  t.true(DescriptorSchema.safeParse(first).success);
  t.is(await waiting, 1);
  t.is(await dc.waitForConnection(100), 1, 'an already handshaken connection resolves at once');
});

test('outbound gets outbound_result from respond; the default answers success with m-<n>', async (t) => {
  const dc = await start(t);
  const peer = await handshake(t, dc.url);
  peer.send(outbound(1));
  t.deepEqual(await peer.next((f) => f.type === 'outbound_result'), {
    type: 'outbound_result',
    requestId: rid(1),
    result: { success: true, message_id: 'm-1' },
  });
  dc.setRespond(async (f) => ({ success: false, error: `no ${String(f.action.op)}` }));
  peer.send(outbound(2, 'react'));
  const r = await peer.next((f) => f.requestId === rid(2));
  t.deepEqual(r.result, { success: false, error: 'no react' });
  dc.setRespond(() => {
    throw new Error('bug in test hook');
  });
  peer.send(outbound(3));
  const failed = await peer.next((f) => f.requestId === rid(3));
  t.is((failed.result as { success: boolean }).success, false, 'a throwing respond answers failure');
});

test('respond returning undefined never answers that outbound', async (t) => {
  const dc = await start(t, { respond: (f) => (f.requestId === rid(1) ? undefined : { success: true }) });
  const peer = await handshake(t, dc.url);
  peer.send(outbound(1));
  peer.send(outbound(2));
  await peer.next((f) => f.requestId === rid(2));
  await barrier(peer);
  t.deepEqual(
    ofType(peer, 'outbound_result').map((f) => f.requestId),
    [rid(2)],
  );
});

test('descriptorFor returning null never answers that hello (and replays nothing)', async (t) => {
  const dc = await start(t, { descriptorFor: (h) => (h.platform === 'mute' ? null : { x: 1 }) });
  dc.sendBuffered({ type: 'inbound', event: { text: 'queued' } });
  const peer = await openPeer(t, dc.url);
  peer.send({ type: 'hello', platform: 'mute', botId: 'b' });
  t.is(await dc.waitForConnection(2000), 1, 'the hello arrived even though it is not answered');
  await barrier(peer);
  t.deepEqual(ofType(peer, 'descriptor'), []);
  t.deepEqual(ofType(peer, 'inbound'), []);
  dc.setDescriptorFor(undefined);
  peer.send({ type: 'hello', platform: 'slack', botId: 'b' });
  t.is(
    ((await peer.next((f) => f.type === 'descriptor')).descriptor as { platform: string }).platform,
    'slack',
  );
});

test('going_idle is acked by default, never when answerGoingIdle is false', async (t) => {
  const dc = await start(t, { answerGoingIdle: false });
  const peer = await handshake(t, dc.url);
  peer.send({ type: 'going_idle' });
  peer.send(outbound(1));
  await peer.next((f) => f.type === 'outbound_result');
  t.deepEqual(ofType(peer, 'going_idle_ack'), []);
  t.is(dc.frames.filter((f) => f.frame.type === 'going_idle').length, 1);
});

test('buffered frames are replayed on every new connection until acked', async (t) => {
  const dc = await start(t);
  const early = dc.sendBuffered({ type: 'inbound', event: { text: 'early' } });
  const p1 = await handshake(t, dc.url);
  const replayed = await p1.next((f) => f.bufferId === early);
  t.deepEqual(replayed, { type: 'inbound', event: { text: 'early' }, bufferId: 'buf-1' });
  const live = dc.sendBuffered({ type: 'inbound', event: { text: 'live' } });
  t.is(live, 'buf-2');
  await p1.next((f) => f.bufferId === live);
  // no ack yet: a reconnect replays both, in order, right after the descriptor
  dc.drop();
  t.is((await p1.closed).code, 1012);
  const p2 = await handshake(t, dc.url);
  await p2.next((f) => f.bufferId === live);
  t.deepEqual(
    p2.received.map((f) => f.type),
    ['descriptor', 'inbound', 'inbound'],
  );
  p2.send({ type: 'inbound_ack', bufferId: early });
  await dc.waitFor((f) => f.frame.type === 'inbound_ack');
  t.deepEqual(dc.pendingBuffered(), [live]);
  dc.drop();
  await p2.closed;
  const p3 = await handshake(t, dc.url);
  await barrier(p3);
  t.deepEqual(
    ofType(p3, 'inbound').map((f) => f.bufferId),
    [live],
  );
  t.is(dc.totalConnections(), 3);
});

test('raw, multi-line, partial and binary sends reach the peer byte for byte', async (t) => {
  const dc = await start(t);
  const peer = await handshake(t, dc.url);
  dc.send('{"type":"a"}\n{"type":"b"}\nnot json\n{"type":');
  dc.send('"c"}\n', { binary: true });
  dc.send({ type: 'd' }, { conn: 1 });
  await peer.next((f) => f.type === 'd');
  t.deepEqual(peer.received.slice(1), [
    { type: 'a' },
    { type: 'b' },
    { __malformed: 'not json' },
    { type: 'c' },
    { type: 'd' },
  ]);
  t.deepEqual(
    peer.messages.slice(1).map((m) => m.binary),
    [false, true, false],
  );
  t.deepEqual(
    dc.frames.filter((f) => f.dir === 'out').map((f) => f.frame.type),
    ['descriptor', '__raw', '__raw', 'd'],
  );
  t.throws(() => dc.send({ type: 'x' }, { conn: 99 }));
});

test('bad input from the sidecar is recorded and skipped; the connection keeps working', async (t) => {
  const dc = await start(t);
  const peer = await handshake(t, dc.url);
  peer.send('not json\n[1,2]\n{"type":"outbound","requestId":"short","action":{"op":"send"}}\n');
  peer.send('{"type":"descriptor"}\n{"no_type":1}\n\n');
  peer.ws.send(Buffer.from('{"type":"going_idle"}\n{"type":"inter'), { binary: true });
  peer.send('rupt","session_key":"k","reason":null}\n');
  await dc.waitFor((f) => f.frame.type === 'interrupt');
  const ins = dc.frames.filter((f) => f.dir === 'in').slice(1);
  t.deepEqual(
    ins.map((f) => [f.frame.type, f.invalid !== undefined]),
    [
      ['__malformed', false],
      ['__malformed', false],
      ['outbound', true],
      ['descriptor', true],
      [undefined, true],
      ['going_idle', false],
      ['interrupt', false],
    ],
  );
  t.is(ins[0]?.frame.raw, 'not json');
  await peer.next((f) => f.type === 'going_idle_ack');
  t.deepEqual(ofType(peer, 'outbound_result'), [], 'an invalid outbound is not answered');
  t.is(dc.connectionCount(), 1);
});

test('every frame is recorded both ways with its connection, and onFrame sees each', async (t) => {
  const dc = await start(t);
  const seen: string[] = [];
  const off = dc.onFrame((f) => seen.push(`${f.dir}:${String(f.frame.type)}`));
  const peer = await handshake(t, dc.url);
  peer.send(outbound(1));
  await peer.next((f) => f.type === 'outbound_result');
  off();
  await barrier(peer);
  t.deepEqual(seen, ['in:hello', 'out:descriptor', 'in:outbound', 'out:outbound_result']);
  t.true(dc.frames.every((f) => f.conn === 1 && typeof f.at === 'number'));
  t.is(dc.frames.length, 6);
});

test('drop, close4401 and terminate end the sockets the way a connector would', async (t) => {
  const dc = await start(t);
  const p1 = await handshake(t, dc.url);
  dc.close4401('revoked');
  t.deepEqual(await p1.closed, { code: 4401, reason: 'revoked' });
  const p2 = await handshake(t, dc.url);
  t.is(await dc.waitForConnection(2000, 1), 2, 'afterConn awaits the reconnect');
  dc.drop(4000, 'custom');
  t.deepEqual(await p2.closed, { code: 4000, reason: 'custom' });
  const p3 = await handshake(t, dc.url);
  dc.terminate();
  t.is((await p3.closed).code, 1006, 'no close frame');
  t.is(dc.connectionCount(), 0);
  t.throws(() => dc.send({ type: 'x' }));
});

test('autoPong false never answers pings (a dead peer); the default answers them', async (t) => {
  for (const autoPong of [true, false]) {
    const dc = await start(t, { autoPong });
    const peer = await handshake(t, dc.url);
    let pongs = 0;
    peer.ws.on('pong', () => {
      pongs += 1;
    });
    peer.ws.ping();
    // the server answers a ping before it reads the next message, so the barrier orders them
    await barrier(peer);
    t.is(pongs, autoPong ? 1 : 0, `autoPong ${autoPong}`);
  }
});

test('waitFor and waitForConnection reject on timeout; close rejects pending waits', async (t) => {
  const dc = await DevConnector.start();
  await t.throwsAsync(dc.waitFor(() => false, 20));
  await t.throwsAsync(dc.waitForConnection(20));
  const pending = dc.waitFor(() => false, 10_000);
  await dc.close();
  await t.throwsAsync(pending);
  await dc.close();
});
