import test from 'ava';
import type { z } from 'zod';
import { UNREADABLE_RESULT } from '../../../core/protocol/actions.js';
import { decodeFrame, MAX_REASON_CHARS } from '../../../core/protocol/decode.js';
import { InboundFrameSchema, InboundReadSchema, OUTGOING_TYPES } from '../../../core/protocol/frames.js';
import { MAX_JSON_DEPTH } from '../../../core/protocol/json-depth.js';
import { defaultDescriptor } from '../../../sidecar/dev-connector/index.js';

const line = (v: unknown) => JSON.stringify(v);
const event = { text: 'hi', source: { platform: 'discord', chat_id: 'c1', user_id: 'u1' } };
const forward = { platform: 'discord', botId: 'b', method: 'POST', path: '/i', headers: [], bodyB64: 'e30=' };

const VALID: Record<string, unknown> = {
  descriptor: { type: 'descriptor', descriptor: defaultDescriptor('discord') },
  inbound: { type: 'inbound', event, bufferId: 'b1' },
  outbound_result: { type: 'outbound_result', requestId: 'a'.repeat(32), result: { success: true } },
  interrupt_inbound: { type: 'interrupt_inbound', session_key: 'agent:main:discord:dm:d1', chat_id: 'd1' },
  passthrough_forward: { type: 'passthrough_forward', forward },
  going_idle_ack: { type: 'going_idle_ack' },
};

for (const [type, frame] of Object.entries(VALID)) {
  test(`a valid ${type} frame decodes`, (t) => {
    const r = decodeFrame(line(frame));
    t.true(r.ok);
    if (r.ok) t.is(r.frame.type as string, type);
  });
}

test('outbound_result without result decodes to an empty result', (t) => {
  const r = decodeFrame(line({ type: 'outbound_result', requestId: 'x' }));
  t.true(r.ok);
  if (r.ok && r.frame.type === 'outbound_result') t.deepEqual(r.frame.result, {});
});

test('not JSON is CORE_ERR_FRAME_NOT_JSON with a bounded reason', (t) => {
  const r = decodeFrame(`{"type":"inbound", ${'S'.repeat(5_000)}`);
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'CORE_ERR_FRAME_NOT_JSON');
  t.true(r.reason.length <= MAX_REASON_CHARS);
  t.false(r.reason.includes('S'.repeat(50)));
});

test('a not-JSON reason never quotes the line (it may be a user message)', (t) => {
  const r = decodeFrame('my private words');
  t.false(r.ok);
  if (!r.ok) t.false(r.reason.includes('private'));
});

for (const value of ['[]', '42', 'null', '"inbound"', 'true']) {
  test(`JSON ${value} is CORE_ERR_FRAME_NOT_OBJECT`, (t) => {
    const r = decodeFrame(value);
    t.false(r.ok);
    if (!r.ok) t.is(r.code, 'CORE_ERR_FRAME_NOT_OBJECT');
  });
}

for (const frame of [{}, { type: 7 }, { type: null }, { kind: 'inbound' }]) {
  test(`missing type ${line(frame)} is ignored as missing_type`, (t) => {
    const r = decodeFrame(line(frame));
    t.false(r.ok);
    if (r.ok) return;
    t.is(r.code, 'CORE_ERR_FRAME_UNKNOWN_TYPE');
    t.is(r.ignored, 'missing_type');
  });
}

for (const type of ['nonsense', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
  test(`unknown type ${type} is ignored as unknown_type`, (t) => {
    const r = decodeFrame(line({ type }));
    t.false(r.ok);
    if (r.ok) return;
    t.is(r.code, 'CORE_ERR_FRAME_UNKNOWN_TYPE');
    t.is(r.ignored, 'unknown_type');
    t.is(r.type, type);
  });
}

test('every sidecar→connector type echoed back is ignored as echoed_type', (t) => {
  t.true(OUTGOING_TYPES.size >= 5);
  for (const type of OUTGOING_TYPES) {
    const r = decodeFrame(line({ type, platform: 'x', botId: '' }));
    t.false(r.ok, type);
    if (!r.ok) t.is(r.ignored, 'echoed_type', type);
  }
});

test('a long type name is truncated', (t) => {
  const r = decodeFrame(line({ type: 'q'.repeat(1_000) }));
  t.false(r.ok);
  if (!r.ok) t.true((r.type ?? '').length <= 64);
});

test('a schema failure names the failing paths and returns the bufferId', (t) => {
  const r = decodeFrame(line({ type: 'inbound', event: { text: 'x', source: {} }, bufferId: 'buf-7' }));
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'CORE_ERR_FRAME_SCHEMA');
  t.is(r.type, 'inbound');
  t.is(r.bufferId, 'buf-7');
  t.regex(r.reason, /event\.source\.platform/);
  t.is(r.ignored, undefined);
});

test('a schema failure without a usable bufferId returns none', (t) => {
  for (const bufferId of [undefined, 7, '', { id: 1 }, 'b'.repeat(257)]) {
    const r = decodeFrame(
      line({ type: 'passthrough_forward', forward: { ...forward, bodyB64: '%%%' }, bufferId }),
    );
    t.false(r.ok);
    if (!r.ok) {
      t.is(r.code, 'CORE_ERR_FRAME_SCHEMA');
      t.is(r.bufferId, undefined);
    }
  }
  // 256 characters is the longest bufferId a failed frame hands on
  const longest = decodeFrame(
    line({ type: 'passthrough_forward', forward: { ...forward, bodyB64: '%%%' }, bufferId: 'b'.repeat(256) }),
  );
  t.is(longest.ok ? undefined : longest.bufferId, 'b'.repeat(256));
});

test('a schema failure never carries raw content beyond the reason cap', (t) => {
  const secretish = 'Z'.repeat(10_000);
  const r = decodeFrame(line({ type: 'descriptor', descriptor: { label: secretish } }));
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'CORE_ERR_FRAME_SCHEMA');
  t.true(r.reason.length <= MAX_REASON_CHARS);
  t.false(JSON.stringify(r).includes('ZZZZZZZZZZ'));
});

test('a descriptor missing a required key is a schema failure', (t) => {
  const { len_unit: _, ...rest } = defaultDescriptor('discord');
  const r = decodeFrame(line({ type: 'descriptor', descriptor: rest }));
  t.false(r.ok);
  if (!r.ok) t.is(r.code, 'CORE_ERR_FRAME_SCHEMA');
});

test('descriptor normalisation: length, len_unit and supported_ops', (t) => {
  const d = defaultDescriptor('telegram', {
    max_message_length: 0,
    len_unit: 'bytes',
    supported_ops: ['send', '', 7, 'get_chat_info'],
    extra: 'ignored',
  });
  const r = decodeFrame(line({ type: 'descriptor', descriptor: d }));
  t.true(r.ok);
  if (!r.ok || r.frame.type !== 'descriptor') return;
  t.is(r.frame.descriptor.max_message_length, 4096);
  t.is(r.frame.descriptor.len_unit, 'chars');
  t.deepEqual(r.frame.descriptor.supported_ops, ['send', 'get_chat_info']);
  t.false('extra' in r.frame.descriptor);
});

test('decoding never throws, whatever the line', (t) => {
  const nasty = [
    '',
    ' ',
    '\u0000',
    '{"type":"inbound","event":null}',
    '{"type":"descriptor","descriptor":[]}',
    '{"type":"outbound_result","requestId":{},"result":[]}',
    '{"type":"interrupt_inbound"}',
    '{"type":"passthrough_forward","forward":"x"}',
    '{"type":"inbound","event":{"source":{"platform":"x"},"media":[{"url":1}]}}',
    '{"__proto__":{"type":"inbound"}}',
    '{"type":"going_idle_ack","extra":1}',
    '"\\ud800"',
    '[{"type":"inbound"}]',
    '9'.repeat(400),
  ];
  for (const l of nasty) t.notThrows(() => decodeFrame(l), l.slice(0, 40));
  // Random byte soup.
  for (let i = 0; i < 200; i++) {
    const chars = Array.from({ length: 30 }, () => String.fromCharCode(Math.floor(Math.random() * 128)));
    t.notThrows(() => decodeFrame(chars.join('')));
  }
});

/** Events covering every normalisation step: defaults, names, scope compat, media, unknown keys. */
const NORMALISED_CASES: Record<string, unknown>[] = [
  event,
  { source: { platform: 'p' } },
  { text: null, message_type: null, source: { platform: 'p', user_handle: 'h' } },
  {
    text: 'x',
    extra: { kept: [1, 2] },
    media_urls: ['u2', 'u1'],
    media: [{ url: 'u1' }, { url: 'u3', kind: 'audio' }],
    source: { platform: 'discord', user_name: 'u', user_display_name: 'D', guild_id: 'G', x: 1 },
  },
  { text: 't', source: { platform: 'p', scope_id: 'S', guild_id: 'G', user_name: 'n' } },
  { source: { platform: 'slack', user_display_name: '', user_name: 'Alice', user_handle: 'a' } },
];

test('the read path decodes inbound to exactly what the public InboundFrameSchema gives', (t) => {
  for (const ev of NORMALISED_CASES) {
    const frame = { type: 'inbound', event: ev, bufferId: 'b1' };
    const r = decodeFrame(line(frame));
    if (!r.ok) return t.fail(`did not decode: ${r.reason}`);
    t.deepEqual(r.frame, InboundFrameSchema.parse(frame));
  }
  // and it rejects what the public schema rejects
  const bad = { type: 'inbound', event: { text: 'x', source: { chat_id: 'c' } } };
  t.false(decodeFrame(line(bad)).ok);
  t.false(InboundFrameSchema.safeParse(bad).success);
});

test('decoding inbound fills the defaults and the source names', (t) => {
  const r = decodeFrame(line({ type: 'inbound', event: { source: { platform: 'p', guild_id: 'G' } } }));
  if (!r.ok || r.frame.type !== 'inbound') return t.fail('did not decode');
  t.is(r.frame.event.text, '');
  t.is(r.frame.event.source.scope_id, 'G');
  t.is(r.frame.event.source.user_name, null);
  const named = decodeFrame(
    line({
      type: 'inbound',
      event: { source: { platform: 'slack', user_display_name: '', user_name: 'Alice' } },
    }),
  );
  if (!named.ok || named.frame.type !== 'inbound') return t.fail('did not decode');
  t.is(named.frame.event.source.user_name, 'Alice', 'an empty display name is not a name');
});

/** Every zod schema node reachable from `schema` (object shapes, wrappers, arrays, pipes). */
function schemaNodes(schema: z.ZodType, seen = new Set<unknown>()): { type: string }[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  const children: unknown[] = [def.innerType, def.element, def.catchall, def.in, def.out];
  if (def.shape) children.push(...Object.values(def.shape as Record<string, unknown>));
  const nodes: { type: string }[] = [def];
  for (const c of children) if (c) nodes.push(...schemaNodes(c as z.ZodType, seen));
  return nodes;
}

test('the inbound read schema holds no zod transform (each kept parsed events alive through a scavenge)', (t) => {
  const types = new Set(schemaNodes(InboundReadSchema).map((n) => n.type));
  t.true(types.has('object') && types.has('array'), 'the walk reaches nested objects and arrays');
  t.false(types.has('transform'));
  t.false(types.has('pipe'));
  // the walk does see transforms where they are
  t.true(new Set(schemaNodes(InboundFrameSchema).map((n) => n.type)).has('transform'));
});

/** `inbound` text whose event carries an unknown key nested `depth` objects deep. */
function deepInbound(depth: number, bufferId?: string): string {
  const nested = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const deepEvent = JSON.stringify(event).replace(/}$/, `,"extra":${nested}}`);
  return `{"type":"inbound",${bufferId ? `"bufferId":"${bufferId}",` : ''}"event":${deepEvent}}`;
}

test('a frame nested deeper than MAX_JSON_DEPTH is a schema failure that hands on its bufferId', (t) => {
  // Deeper frames parse, but the structured clone into the plugin worker overflows its stack
  // and fails the whole batch the frame travels in (its neighbours included).
  const r = decodeFrame(deepInbound(20_000, 'buf-deep'));
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'CORE_ERR_FRAME_SCHEMA');
  t.is(r.type, 'inbound');
  t.is(r.bufferId, 'buf-deep');
  t.regex(r.reason, new RegExp(`more than ${MAX_JSON_DEPTH} levels`));
  // the frame itself counts: inbound(1) → event(2) → extra, so the deepest allowed extra is 62
  t.true(decodeFrame(deepInbound(MAX_JSON_DEPTH - 2)).ok);
  t.false(decodeFrame(deepInbound(MAX_JSON_DEPTH - 1)).ok);
});

test('an outbound_result nested too deep still names its call, with a result the correlator knows as unreadable', (t) => {
  const nested = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
  const r = decodeFrame(`{"type":"outbound_result","requestId":"r1","result":${nested}}`);
  t.true(r.ok);
  if (!r.ok || r.frame.type !== 'outbound_result') return;
  t.is(r.frame.requestId, 'r1');
  t.is(r.frame.result, UNREADABLE_RESULT);
  // without a string requestId there is no call to answer: a schema failure as before
  const anonymous = decodeFrame(`{"type":"outbound_result","requestId":7,"result":${nested}}`);
  t.like(anonymous, { ok: false, code: 'CORE_ERR_FRAME_SCHEMA', type: 'outbound_result' });
});

test('an interrupt_inbound keeps a bufferId a connector added (off-contract), so it can be acked', (t) => {
  const r = decodeFrame(
    line({
      type: 'interrupt_inbound',
      bufferId: 'buf-1',
      session_key: 'agent:main:discord:dm:d1',
      chat_id: 'd1',
    }),
  );
  t.true(r.ok);
  if (r.ok) t.like(r.frame, { type: 'interrupt_inbound', bufferId: 'buf-1' });
});
