/**
 * Property-based fuzzing of the frame decoder (relay contract section 2): whatever a line holds —
 * any text, any JSON, a valid frame of the contract mutated anywhere (wrong types, huge numbers,
 * unicode, prototype keys, deep nesting, long strings) — `decodeFrame` returns a result and never
 * throws, a failure carries a stable code and a bounded reason that never quotes the input, and a
 * frame that decodes decodes again to the same value (a valid frame round-trips). fast-check
 * prints the seed and the shrunk counterexample of a failure; rerun with it to reproduce.
 */
import test from 'ava';
import fc from 'fast-check';
import { type DecodeResult, decodeFrame, MAX_REASON_CHARS } from '../../../core/protocol/decode.js';
import { MAX_JSON_DEPTH } from '../../../core/protocol/json-depth.js';
import { defaultDescriptor } from '../../../sidecar/dev-connector/index.js';
import {
  fullEvent,
  hostileKey,
  hostileValue,
  type Json,
  MARKER,
  mutate,
  mutation,
} from '../../helpers/json-mutation.js';
import { loadSharedFixture } from '../../helpers/shared-fixtures.js';

const CODES = new Set([
  'CORE_ERR_FRAME_NOT_JSON',
  'CORE_ERR_FRAME_NOT_OBJECT',
  'CORE_ERR_FRAME_SCHEMA',
  'CORE_ERR_FRAME_UNKNOWN_TYPE',
]);

/** The forwards of the shared fixtures (Discord interactions and Twilio webhooks). */
function fixtureForwards(): Record<string, Json>[] {
  return ['discord-interactions.json', 'twilio-webhooks.json'].flatMap((name) =>
    loadSharedFixture<{ samples: { forward: Record<string, Json> }[] }>(name).samples.map((s) => s.forward),
  );
}

const VALID: readonly Record<string, Json>[] = [
  { type: 'descriptor', descriptor: defaultDescriptor('discord') as unknown as Json },
  {
    type: 'inbound',
    bufferId: 'b1',
    event: fullEvent({
      platform: 'discord',
      chat_id: 'c1',
      chat_type: 'group',
      user_id: 'u1',
      guild_id: 'g',
    }),
  },
  { type: 'outbound_result', requestId: 'a'.repeat(32), result: { success: true, message_id: 'm' } },
  { type: 'interrupt_inbound', session_key: 'agent:main:discord:dm:d1', chat_id: 'd1' },
  ...fixtureForwards().map((forward) => ({ type: 'passthrough_forward', bufferId: 'b2', forward })),
  { type: 'going_idle_ack' },
];

/** What every result must satisfy, whatever the line was. */
function checkResult(r: DecodeResult, line: string): void {
  if (r.ok) return;
  if (!CODES.has(r.code)) throw new Error(`unstable code ${r.code}`);
  if (typeof r.reason !== 'string' || r.reason.length > MAX_REASON_CHARS) {
    throw new Error(`reason not bounded: ${r.reason?.length}`);
  }
  if (r.reason.includes(MARKER)) throw new Error(`reason quotes the input: ${r.reason}`);
  if (r.type !== undefined && (typeof r.type !== 'string' || r.type.length > 64)) throw new Error('type');
  if (r.bufferId !== undefined && (r.bufferId.length === 0 || r.bufferId.length > 256)) throw new Error('id');
  if (r.code === 'CORE_ERR_FRAME_UNKNOWN_TYPE' && r.ignored === undefined) throw new Error('ignored unset');
  if (r.bufferId !== undefined && r.code !== 'CORE_ERR_FRAME_SCHEMA')
    throw new Error('bufferId on non-schema');
  if (line.length === 0) throw new Error('blank lines never reach the decoder');
}

/** JSON with sorted keys: the same value, whatever order its keys were set in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : x,
  );
}

/** A frame that decoded must decode again, from its own JSON, to the same value. */
function checkRoundTrip(r: DecodeResult): void {
  if (!r.ok) return;
  const again = decodeFrame(JSON.stringify(r.frame));
  if (!again.ok) throw new Error(`a decoded frame does not decode again: ${again.code} ${again.reason}`);
  const a = canonical(r.frame);
  const b = canonical(again.frame);
  if (a !== b) throw new Error(`round trip changed the frame:\n${a.slice(0, 500)}\n${b.slice(0, 500)}`);
}

test('any text: a result, never an exception; failures have a stable code and a bounded reason', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }).map((s) => `{"type":"inbound",${s}`),
        fc.string({ minLength: 1, maxLength: 80 }).map((s) => `${MARKER}${s}`),
      ),
      (line) => {
        const r = decodeFrame(line);
        checkResult(r, line);
        return true;
      },
    ),
    { numRuns: 2_000 },
  );
  t.pass();
});

test('any JSON value, and any object with a contract type: never throws, codes stable', (t) => {
  const typed = fc
    .tuple(
      fc.constantFrom(...VALID.map((f) => f.type as string)),
      fc.dictionary(hostileKey, hostileValue, { maxKeys: 5 }),
    )
    .map(([type, rest]) => ({ ...rest, type }));
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), typed), (value) => {
      const line = JSON.stringify(value) ?? 'null';
      const r = decodeFrame(line);
      checkResult(r, line);
      checkRoundTrip(r);
      return true;
    }),
    { numRuns: 1_500 },
  );
  t.pass();
});

test('valid frames decode and round-trip', (t) => {
  for (const frame of VALID) {
    const r = decodeFrame(JSON.stringify(frame));
    t.true(r.ok, String(frame.type));
    checkRoundTrip(r);
  }
});

test('valid frames mutated anywhere: never throws, failures bounded, survivors round-trip', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(...VALID),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (frame, ms) => {
        const line = JSON.stringify(mutate(frame, ms));
        const r = decodeFrame(line);
        checkResult(r, line);
        checkRoundTrip(r);
        // a buffered frame that fails its schema is handed on with its id, to be acked
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (!r.ok && r.code === 'CORE_ERR_FRAME_SCHEMA' && typeof parsed.bufferId === 'string') {
          const id = parsed.bufferId;
          if (id !== '' && id.length <= 256 && r.bufferId !== id) throw new Error('bufferId lost');
        }
        return true;
      },
    ),
    { numRuns: 1_500 },
  );
  t.pass();
});

test('a decoded frame is never deeper than MAX_JSON_DEPTH', (t) => {
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...VALID),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      (frame, ms) => {
        const r = decodeFrame(JSON.stringify(mutate(frame, ms)));
        return !r.ok || depthOf(r.frame) <= MAX_JSON_DEPTH;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});
