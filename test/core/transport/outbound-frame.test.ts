import test from 'ava';
import { buildOutboundFrame, chatInfoOf, localChatInfo } from '../../../core/transport/outbound-frame.js';

const ID = 'a'.repeat(32);
const IDS = [
  { platform: 'discord', botId: 'bot-d' },
  { platform: 'slack', botId: '' },
];
const action = { op: 'send', chat_id: 'c', content: 'x', reply_to: null, metadata: {} };

test('no tags ⇒ neither platform nor botId', (t) => {
  const r = buildOutboundFrame(ID, action, {}, IDS);
  t.deepEqual(r, { ok: true, frame: { type: 'outbound', requestId: ID, action } });
});

test('a hello’d platform gets its identity botId', (t) => {
  const r = buildOutboundFrame(ID, action, { platform: 'discord' }, IDS);
  t.true(r.ok && r.frame.platform === 'discord' && r.frame.botId === 'bot-d');
});

test('a caller botId wins for a hello’d platform', (t) => {
  const r = buildOutboundFrame(ID, action, { platform: 'discord', botId: 'other' }, IDS);
  t.true(r.ok && r.frame.botId === 'other');
});

test('a platform that is not an identity never carries a botId', (t) => {
  const r = buildOutboundFrame(ID, action, { platform: 'telegram', botId: 'x' }, IDS);
  t.true(r.ok);
  if (r.ok) {
    t.is(r.frame.platform, 'telegram');
    t.false('botId' in r.frame);
  }
});

test('an empty botId is never sent', (t) => {
  const r = buildOutboundFrame(ID, action, { platform: 'slack' }, IDS);
  t.true(r.ok && !('botId' in r.frame));
});

test('the frame is validated: a bad request id or op is refused', (t) => {
  const bad = buildOutboundFrame('XYZ', action, {}, IDS);
  t.false(bad.ok);
  if (!bad.ok) t.regex(bad.reason, /requestId/);
  const noOp = buildOutboundFrame(ID, { op: '' }, {}, IDS);
  t.false(noOp.ok);
});

test('chat info: nested, flat, partial and failed results', (t) => {
  t.deepEqual(chatInfoOf({ success: true, chat_info: { name: 'General', type: 'group' } }, 'c1'), {
    name: 'General',
    type: 'group',
  });
  t.deepEqual(chatInfoOf({ success: true, name: 'Flat', type: 'channel' }, 'c1'), {
    name: 'Flat',
    type: 'channel',
  });
  t.deepEqual(chatInfoOf({ success: true, chat_info: { type: 'group' } }, 'c1'), {
    name: 'c1',
    type: 'group',
  });
  t.deepEqual(chatInfoOf({ success: false, error: 'relay transport not connected' }, 'c1'), {
    name: 'c1',
    type: 'dm',
  });
  t.deepEqual(localChatInfo('c9'), { name: 'c9', type: 'dm' });
});
