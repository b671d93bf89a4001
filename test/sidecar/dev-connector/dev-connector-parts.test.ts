import test from 'ava';
import { DescriptorSchema } from '../../../core/protocol/payloads.js';
import { mintToken } from '../../../core/transport/auth-token.js';
import { ReplayBuffer } from '../../../sidecar/dev-connector/buffer.js';
import { truncateReason } from '../../../sidecar/dev-connector/connection.js';
import { defaultDescriptor } from '../../../sidecar/dev-connector/default-descriptor.js';
import { LineSplitter, parseObject } from '../../../sidecar/dev-connector/line-splitter.js';
import { Recorder } from '../../../sidecar/dev-connector/recorder.js';
import { authorizeUpgrade, isRelayPath, pathOf } from '../../../sidecar/dev-connector/upgrade-auth.js';

const NOW = 1_754_700_000;

test('defaultDescriptor is a valid descriptor with every core op and follow_up', (t) => {
  const parsed = DescriptorSchema.safeParse(defaultDescriptor('slack'));
  t.true(parsed.success);
  if (!parsed.success) return;
  t.is(parsed.data.platform, 'slack');
  t.is(parsed.data.contract_version, 1);
  t.is(parsed.data.max_message_length, 2000);
  t.is(parsed.data.len_unit, 'chars');
  for (const op of [
    'send',
    'edit',
    'typing',
    'get_chat_info',
    'send_media',
    'prompt',
    'react',
    'follow_up',
  ]) {
    t.true(parsed.data.supported_ops.includes(op), op);
  }
  t.deepEqual(defaultDescriptor('x', { supported_ops: [] }).supported_ops, []);
  t.false(DescriptorSchema.safeParse(defaultDescriptor('x', { label: undefined })).success);
});

test('authorizeUpgrade: no secrets accepts anything; otherwise missing / invalid / expired / ok', (t) => {
  t.deepEqual(authorizeUpgrade(undefined, [], NOW), { authorized: true });
  t.deepEqual(authorizeUpgrade(undefined, [''], NOW), { authorized: true }, 'only empty secrets = none');
  const good = mintToken('gw-1', 'k', 300, NOW);
  t.deepEqual(authorizeUpgrade(`Bearer ${good}`, ['k'], NOW), { authorized: true, gatewayId: 'gw-1' });
  t.deepEqual(authorizeUpgrade(`bearer  ${good} `, ['k'], NOW), { authorized: true, gatewayId: 'gw-1' });
  t.deepEqual(authorizeUpgrade(undefined, ['k'], NOW), { authorized: false, reason: 'missing' });
  t.deepEqual(authorizeUpgrade('  ', ['k'], NOW), { authorized: false, reason: 'missing' });
  t.deepEqual(authorizeUpgrade(`Basic ${good}`, ['k'], NOW), { authorized: false, reason: 'invalid' });
  t.deepEqual(authorizeUpgrade('Bearer garbage', ['k'], NOW), { authorized: false, reason: 'invalid' });
  t.deepEqual(authorizeUpgrade(`Bearer ${good}`, ['other'], NOW), { authorized: false, reason: 'invalid' });
  t.deepEqual(authorizeUpgrade(`Bearer ${good}`, ['k'], NOW + 301), { authorized: false, reason: 'expired' });
  t.deepEqual(authorizeUpgrade(`Bearer ${good}`, ['new', 'k'], NOW), { authorized: true, gatewayId: 'gw-1' });
});

test('pathOf and isRelayPath', (t) => {
  t.is(pathOf('/api/relay?x=1'), '/api/relay');
  t.is(pathOf(undefined), '/');
  t.true(isRelayPath('/relay'));
  t.true(isRelayPath('/api/relay'));
  t.false(isRelayPath('/relay/'));
  t.false(isRelayPath('/myrelay/x'));
  t.false(isRelayPath('/'));
});

test('LineSplitter keeps partial lines, skips blanks, and drops an oversized partial', (t) => {
  const s = new LineSplitter(10);
  t.deepEqual(s.push('{"a":1}\n{"b"'), { lines: ['{"a":1}'], overflowed: false });
  t.deepEqual(s.push(':2}\n\n  \n'), { lines: ['{"b":2}'], overflowed: false });
  t.deepEqual(s.push('x'.repeat(11)), { lines: [], overflowed: true });
  t.deepEqual(s.push('{"c":3}\n'), { lines: ['{"c":3}'], overflowed: false }, 'the dropped partial is gone');
});

test('parseObject accepts objects only', (t) => {
  t.deepEqual(parseObject('{"type":"x"}'), { type: 'x' });
  for (const bad of ['[1]', '1', 'null', '"s"', '{', '']) t.is(parseObject(bad), undefined, bad);
});

test('ReplayBuffer assigns buf-<n>, keeps order, forgets acked ids', (t) => {
  const b = new ReplayBuffer();
  const one = b.add({ type: 'inbound', n: 1 });
  const two = b.add({ type: 'inbound', n: 2 });
  t.is(one.bufferId, 'buf-1');
  t.deepEqual(two.frame, { type: 'inbound', n: 2, bufferId: 'buf-2' });
  t.deepEqual(b.ids(), ['buf-1', 'buf-2']);
  t.true(b.ack('buf-1'));
  t.false(b.ack('buf-1'));
  t.false(b.ack(42));
  t.deepEqual(
    b.frames().map((f) => f.bufferId),
    ['buf-2'],
  );
});

test('truncateReason fits a close frame without splitting characters', (t) => {
  t.is(truncateReason('expired'), 'expired');
  const long = truncateReason('é'.repeat(100));
  t.true(Buffer.byteLength(long) <= 123);
  t.is(long, 'é'.repeat(61));
});

test('Recorder: waitFor sees past and future frames, times out, and is bounded', async (t) => {
  const r = new Recorder(3);
  const seen: number[] = [];
  const off = r.onFrame((f) => seen.push(f.conn));
  r.onFrame(() => {
    throw new Error('a broken listener is ignored');
  });
  r.record({ dir: 'in', conn: 1, frame: { type: 'a' }, at: 0 });
  t.is((await r.waitFor((f) => f.frame.type === 'a', 100)).conn, 1);
  const future = r.waitFor((f) => (f.frame as { deep: { x: number } }).deep.x === 1, 1000);
  r.record({ dir: 'in', conn: 2, frame: { type: 'b', deep: { x: 1 } }, at: 0 });
  t.is((await future).conn, 2, 'a throwing predicate on other frames counts as no match');
  off();
  for (const conn of [3, 4, 5]) r.record({ dir: 'out', conn, frame: { type: 'c' }, at: 0 });
  t.deepEqual(
    r.frames.map((f) => f.conn),
    [3, 4, 5],
  );
  t.deepEqual(seen, [1, 2]);
  const err = await t.throwsAsync(r.waitFor(() => false, 20));
  t.truthy(err);
  const pending = r.waitFor(() => false, 10_000);
  r.close();
  await t.throwsAsync(pending);
});
