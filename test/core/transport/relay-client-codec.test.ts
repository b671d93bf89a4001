import 'reflect-metadata';
import test from 'ava';
import { startRawConnector } from './raw-connector.js';
import { type Harness, startHarness, waitUntil } from './relay-harness.js';

const source = { platform: 'discord', chat_id: 'c1', user_id: 'u1' };
const inbound = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'inbound',
  event: { text, source },
  ...extra,
});
const line = (frame: unknown) => `${JSON.stringify(frame)}\n`;
const texts = (h: Harness) => h.routed.inbound.map((f) => f.event.text);

async function ready(t: Parameters<typeof startHarness>[0], opts: Parameters<typeof startHarness>[1] = {}) {
  const h = await startHarness(t, opts);
  await h.waitState('ready');
  return h;
}

test('a frame split across messages is routed once complete', async (t) => {
  const h = await ready(t);
  const text = line(inbound('split'));
  h.dc.send(text.slice(0, 10));
  h.dc.send(text.slice(10, 25));
  h.dc.send(text.slice(25));
  await waitUntil(() => h.routed.inbound.length === 1);
  t.deepEqual(texts(h), ['split']);
});

test('several frames per message and blank lines', async (t) => {
  const h = await ready(t);
  h.dc.send(
    `\n${line(inbound('a'))}\n   \n${line(inbound('b'))}${line({ type: 'interrupt_inbound', session_key: 'k' })}\n`,
  );
  await waitUntil(() => h.routed.inbound.length === 2 && h.routed.interrupt_inbound.length === 1);
  t.deepEqual(texts(h), ['a', 'b']);
  t.is(h.routed.interrupt_inbound[0]?.chat_id, '');
  t.is(await h.metrics.value('relay_frames_in_total', { type: 'inbound' }), 2);
});

test('malformed, unknown, missing-type and echoed frames are logged, counted, skipped; the loop goes on', async (t) => {
  const h = await ready(t);
  h.dc.send(
    [
      'not json at all',
      '[1,2,3]',
      '{"no":"type"}',
      '{"type":"brand_new_frame"}',
      '{"type":"hello","platform":"x","botId":""}',
      '{"type":"interrupt_inbound"}',
      JSON.stringify(inbound('survivor')),
      '',
    ].join('\n'),
  );
  await waitUntil(() => h.routed.inbound.length === 1);
  t.deepEqual(texts(h), ['survivor']);
  const m = (name: string, labels: Record<string, string>) => h.metrics.value(name, labels);
  t.is(await m('relay_frames_malformed_total', { code: 'CORE_ERR_FRAME_NOT_JSON' }), 1);
  t.is(await m('relay_frames_malformed_total', { code: 'CORE_ERR_FRAME_NOT_OBJECT' }), 1);
  t.is(await m('relay_frames_malformed_total', { code: 'CORE_ERR_FRAME_SCHEMA' }), 1);
  t.is(await m('relay_frames_ignored_total', { reason: 'missing_type' }), 1);
  t.is(await m('relay_frames_ignored_total', { reason: 'unknown_type' }), 1);
  t.is(await m('relay_frames_ignored_total', { reason: 'echoed_type' }), 1);
  // Logged once each, with the type and a reason, never the raw line.
  t.is(h.sink.withCode('CORE_ERR_FRAME_NOT_JSON').length, 1);
  t.is(h.sink.withCode('CORE_ERR_FRAME_NOT_OBJECT').length, 1);
  t.is(h.sink.withCode('CORE_ERR_FRAME_UNKNOWN_TYPE').length, 3);
  const schema = h.sink.withCode('CORE_ERR_FRAME_SCHEMA');
  t.is(schema.length, 1);
  t.is(schema[0]?.type, 'interrupt_inbound');
  t.regex(String(schema[0]?.reason), /session_key/);
  t.false(h.sink.text().includes('not json at all'));
  t.is(h.dc.totalConnections(), 1);
  t.is(h.client.state, 'ready');
});

test('binary frames are decoded as UTF-8', async (t) => {
  const h = await ready(t);
  h.dc.send(line(inbound('bïnäry 🔌')), { binary: true });
  await waitUntil(() => h.routed.inbound.length === 1);
  t.deepEqual(texts(h), ['bïnäry 🔌']);
});

test('the partial-line buffer is capped at maxPayload: overflow is logged, the stream recovers', async (t) => {
  const h = await ready(t, { config: { relay: { maxPayloadBytes: 1_024 } } });
  h.dc.send('{"type":"inbound","event":{"text":"');
  h.dc.send('x'.repeat(800));
  h.dc.send('y'.repeat(800));
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_FRAME_PARTIAL_OVERFLOW');
  h.dc.send(`"}}\n${line(inbound('after overflow'))}`);
  await waitUntil(() => h.routed.inbound.length === 1);
  t.deepEqual(texts(h), ['after overflow']);
  t.is(h.sink.withCode('CORE_ERR_FRAME_PARTIAL_OVERFLOW').length, 1);
  // the contract: "overflow drops the buffer with an error log" (pino 50 = error)
  t.is(h.sink.withCode('CORE_ERR_FRAME_PARTIAL_OVERFLOW')[0]?.level, 50);
  t.is(h.sink.withCode('CORE_ERR_FRAME_NOT_JSON').length, 0);
  t.is(h.dc.totalConnections(), 1);
});

test('a message over maxPayload closes the socket (1009), is counted and logged, and the client reconnects', async (t) => {
  const h = await ready(t, { config: { relay: { maxPayloadBytes: 1_024 } } });
  h.dc.send(line(inbound('z'.repeat(4_000))));
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_FRAME_TOO_LARGE');
  await waitUntil(() => h.dc.totalConnections() === 2 && h.client.state === 'ready');
  t.is(await h.metrics.value('relay_frames_malformed_total', { code: 'CORE_ERR_FRAME_TOO_LARGE' }), 1);
  t.is(h.routed.inbound.length, 0);
  t.true(h.states.includes('reconnecting'));
});

test('a route handler that throws is reported and the read loop goes on', async (t) => {
  let calls = 0;
  const h = await ready(t, {
    routes: {
      inbound: (f) => {
        calls += 1;
        if (f.event.text === 'bomb') throw new Error('handler exploded');
      },
    },
  });
  h.dc.send(`${line(inbound('bomb'))}${line(inbound('fine'))}`);
  await waitUntil(() => calls === 2);
  const failed = await h.sink.waitFor((l) => l.code === 'CORE_ERR_ROUTER_HANDLER_FAILED');
  t.is(failed.type, 'inbound');
  t.is(h.client.state, 'ready');
  t.is(h.dc.totalConnections(), 1);
});

test('a schema-failed frame carrying a bufferId goes to the poison route', async (t) => {
  const h = await ready(t);
  h.dc.send(line({ type: 'inbound', event: { text: 'no source' }, bufferId: 'buf-poison' }));
  await waitUntil(() => h.routed.poison.length === 1);
  t.like(h.routed.poison[0], { bufferId: 'buf-poison', code: 'CORE_ERR_FRAME_SCHEMA', type: 'inbound' });
  t.is(h.routed.inbound.length, 0);
});

test('a throwing poison route is reported, not fatal', async (t) => {
  const h = await ready(t, {
    routes: {
      poison: () => {
        throw new Error('poison handler bug');
      },
    },
  });
  h.dc.send(line({ type: 'passthrough_forward', forward: { bodyB64: '!!' }, bufferId: 'b9' }));
  await h.sink.waitFor((l) => l.code === 'CORE_ERR_ROUTER_HANDLER_FAILED' && l.type === 'poison');
  h.dc.send(line(inbound('still here')));
  await waitUntil(() => h.routed.inbound.length === 1);
  t.pass();
});

test('inbound, passthrough_forward and interrupt_inbound reach their routes', async (t) => {
  const h = await ready(t);
  h.dc.send(
    line({
      type: 'passthrough_forward',
      forward: {
        platform: 'twilio',
        botId: 'b',
        method: 'POST',
        path: '/sms',
        headers: [['a', 'b'], ['bad']],
        bodyB64: 'aGk=',
      },
    }),
  );
  h.dc.send(line({ type: 'interrupt_inbound', session_key: 'agent:main:discord:dm:d1', chat_id: 'd1' }));
  h.dc.send(line(inbound('hello', { bufferId: 'b1' })));
  await waitUntil(
    () =>
      h.routed.passthrough_forward.length === 1 &&
      h.routed.interrupt_inbound.length === 1 &&
      h.routed.inbound.length === 1,
  );
  t.deepEqual(h.routed.passthrough_forward[0]?.forward.headers, [['a', 'b']]);
  t.is(h.routed.inbound[0]?.bufferId, 'b1');
});

test('a text message that is not valid UTF-8 is one bad line, not the end of the connection', async (t) => {
  // ws fails a connection on invalid UTF-8 in a text message (RFC 6455); the contract reads text
  // and binary as one UTF-8 byte stream and lets nothing on the wire end the read loop, and the
  // live frames queued behind the bad one would be lost with the connection
  const split = Buffer.from(line(inbound('sp🔌lit')));
  const cut = split.indexOf(0xf0) + 2; // inside the 4-byte emoji
  const raw = await startRawConnector(t, (ws) => {
    ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x0a]), { binary: false });
    ws.send(line(inbound('after')));
    // a connector that chunks its NDJSON byte stream into text messages anywhere
    ws.send(split.subarray(0, cut), { binary: false });
    ws.send(split.subarray(cut), { binary: false });
  });
  const h = await ready(t, { config: { relay: { url: raw.url } } });
  await waitUntil(() => h.routed.inbound.length === 2 || raw.sockets.length > 1);
  t.deepEqual(texts(h), ['after', 'sp🔌lit']);
  t.is(raw.sockets.length, 1);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SOCKET_ERROR').length, 0);
  t.is(h.sink.withCode('CORE_ERR_FRAME_NOT_JSON').length, 1);
  t.is(h.client.state, 'ready');
});

test('a flood of malformed lines is counted line by line but warned about at the 1st, 10th, 100th, 1000th', async (t) => {
  // one 16 MiB message of "x\n" is 8 Mi lines: a warning each turned a connector's bytes into
  // a hundred times as many bytes of log
  const h = await ready(t);
  h.dc.send(`${'x\n'.repeat(2_500)}${line(inbound('after the flood'))}`);
  await waitUntil(() => h.routed.inbound.length === 1);
  t.is(await h.metrics.value('relay_frames_malformed_total', { code: 'CORE_ERR_FRAME_NOT_JSON' }), 2_500);
  const lines = h.sink.withCode('CORE_ERR_FRAME_NOT_JSON');
  const warned = lines.filter((l) => l.level === 40);
  t.deepEqual(
    warned.map((l) => l.malformedSoFar),
    [1, 10, 100, 1_000],
  );
  t.is(lines.length, 2_500); // the rest at debug
  t.is(await h.metrics.value('relay_errors_total', { code: 'CORE_ERR_FRAME_NOT_JSON' }), 2_500);
});
