import 'reflect-metadata';
/**
 * Property-based fuzzing of the read loop on a real socket: a hostile connector sends a stream of
 * lines — valid frames, garbage, near-valid JSON — cut into WebSocket messages at arbitrary byte
 * offsets (inside UTF-8 sequences too), as text or binary. The connection stays up, and exactly
 * the lines that decode alone are routed, in order, whatever the cuts; schema-failed frames with
 * a bufferId reach the poison route. fast-check prints the seed of a failure.
 */
import test from 'ava';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { decodeFrame } from '../../../core/protocol/decode.js';
import { startRawConnector } from './raw-connector.js';
import { startHarness, waitUntil } from './relay-harness.js';

const source = { platform: 'discord', chat_id: 'c1', user_id: 'u1' };

/** One line of the stream (no `\n` inside). */
const lineArb: fc.Arbitrary<string> = fc
  .oneof(
    fc
      .string({ unit: 'grapheme', maxLength: 30 })
      .map((text) => JSON.stringify({ type: 'inbound', event: { text, source } })),
    fc
      .tuple(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ minLength: 1, maxLength: 8 }))
      .map(([text, bufferId]) => JSON.stringify({ type: 'inbound', event: { text, source }, bufferId })),
    fc
      .string({ minLength: 1, maxLength: 8 })
      .map((bufferId) => JSON.stringify({ type: 'inbound', event: { text: 1 }, bufferId })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => `{"type":"inbound","event":{"text":"${s}`),
  )
  .map((l) => l.replaceAll('\n', ' '));

interface Stream {
  readonly lines: string[];
  /** Cut points, byte offsets modulo the stream's length. */
  readonly cuts: number[];
  readonly binary: boolean[];
}

const streamArb: fc.Arbitrary<Stream> = fc.record({
  lines: fc.array(lineArb, { minLength: 1, maxLength: 12 }),
  cuts: fc.array(fc.nat(), { maxLength: 10 }),
  binary: fc.array(fc.boolean(), { minLength: 11, maxLength: 11 }),
});

test('any stream cut anywhere: the connection stays up and exactly the decodable lines are routed, in order', async (t) => {
  let socket: WebSocket | undefined;
  const raw = await startRawConnector(t, (ws) => {
    socket = ws;
  });
  const h = await startHarness(t, { config: { relay: { url: raw.url } } });
  await h.waitState('ready');
  await waitUntil(() => socket !== undefined);
  let run = 0;

  await fc.assert(
    fc.asyncProperty(streamArb, async ({ lines, cuts, binary }) => {
      run++;
      const sentinel = `sentinel-${run}`;
      const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      const at = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const inboundBefore = h.routed.inbound.length;
      const poisonBefore = h.routed.poison.length;
      let from = 0;
      [...at, bytes.length].forEach((to, i) => {
        if (to > from) socket?.send(bytes.subarray(from, to), { binary: binary[i] ?? false });
        from = Math.max(from, to);
      });
      socket?.send(`${JSON.stringify({ type: 'inbound', event: { text: sentinel, source } })}\n`);
      await waitUntil(() => h.routed.inbound.at(-1)?.event.text === sentinel, 10_000, sentinel);

      // the oracle: each complete line decoded alone (the stream decoded as UTF-8, then split)
      const decoded = bytes
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(decodeFrame);
      const expected = decoded.flatMap((r) =>
        r.ok && r.frame.type === 'inbound' ? [r.frame.event.text] : [],
      );
      const poison = decoded.flatMap((r) => (!r.ok && r.bufferId !== undefined ? [r.bufferId] : []));
      const routed = h.routed.inbound.slice(inboundBefore, -1).map((f) => f.event.text);
      const poisoned = h.routed.poison.slice(poisonBefore).map((p) => p.bufferId);
      if (JSON.stringify(routed) !== JSON.stringify(expected)) {
        throw new Error(`routed ${JSON.stringify(routed)}, expected ${JSON.stringify(expected)}`);
      }
      if (JSON.stringify(poisoned) !== JSON.stringify(poison)) throw new Error('poison route differs');
      return raw.sockets.length === 1 && h.client.state === 'ready';
    }),
    { numRuns: 60 },
  );
  t.is(raw.sockets.length, 1);
  t.is(h.sink.withCode('CORE_ERR_ROUTER_HANDLER_FAILED').length, 0);
  t.is(h.sink.withCode('CORE_ERR_TRANSPORT_SOCKET_ERROR').length, 0);
});
