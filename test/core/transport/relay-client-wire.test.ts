/**
 * Relay contract §2 and §3 as bytes on the wire: every frame the sidecar sends is one WebSocket
 * *text* message holding one JSON object and its `\n`, and the hellos come first, one per
 * identity in configured order. The dev connector reads text and binary alike and splits on `\n`
 * across messages, so only a bare `ws` server sees the message boundaries and their kind.
 */
import 'reflect-metadata';
import test from 'ava';
import { startRawConnector } from './raw-connector.js';
import { startHarness, waitUntil } from './relay-harness.js';

const manifest = [{ name: 'ask', description: 'Ask the agent' }];
const identities = [
  { platform: 'telegram', botId: 't1' },
  { platform: 'discord', botId: 'd1' },
];

test('each frame the sidecar writes is one text message: one JSON object and its newline; hellos first, in order', async (t) => {
  const raw = await startRawConnector(t, (ws) => {
    // answer what needs an answer, so the client's calls complete
    ws.on('message', (data) => {
      for (const line of String(data)
        .split('\n')
        .filter((l) => l !== '')) {
        const frame = JSON.parse(line) as { type: string; requestId?: string };
        if (frame.type === 'outbound') {
          ws.send(
            `${JSON.stringify({ type: 'outbound_result', requestId: frame.requestId, result: { success: true } })}\n`,
          );
        }
        if (frame.type === 'going_idle') ws.send(`${JSON.stringify({ type: 'going_idle_ack' })}\n`);
      }
    });
  });
  const h = await startHarness(t, {
    config: { relay: { url: raw.url, identities, commandManifest: manifest } },
  });
  await h.waitState('ready');
  const action = { op: 'send', chat_id: 'c1', content: 'hi', reply_to: null, metadata: {} };
  t.true((await h.client.send(action, { platform: 'discord' })).success);
  t.true(h.client.interrupt('agent:main:discord:dm:c1', null));
  t.true(h.client.ackInbound('buf-1'));
  t.true(await h.client.goingIdle());
  await waitUntil(() => raw.messages.length >= 6);

  const mine = raw.messages.filter((m) => m.conn === 0);
  for (const m of mine) {
    t.false(m.binary, 'a text message');
    t.true(m.text.endsWith('\n'), 'ends with its newline');
    t.is(m.text.indexOf('\n'), m.text.length - 1, 'one frame per message');
  }
  const frames = mine.map((m) => JSON.parse(m.text) as Record<string, unknown>);
  t.deepEqual(
    frames.map((f) => f.type),
    ['hello', 'hello', 'outbound', 'interrupt', 'inbound_ack', 'going_idle'],
  );
  t.deepEqual(frames.slice(0, 2), [
    { type: 'hello', platform: 'telegram', botId: 't1' },
    { type: 'hello', platform: 'discord', botId: 'd1', command_manifest: manifest },
  ]);
  t.like(frames[2], { type: 'outbound', platform: 'discord', botId: 'd1', action });
  t.regex(String(frames[2]?.requestId), /^[0-9a-f]{32}$/);
  t.deepEqual(frames.slice(3), [
    { type: 'interrupt', session_key: 'agent:main:discord:dm:c1', reason: null },
    { type: 'inbound_ack', bufferId: 'buf-1' },
    { type: 'going_idle' },
  ]);
});
