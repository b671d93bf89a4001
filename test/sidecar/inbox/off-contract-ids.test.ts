/**
 * Off-contract ids from a connector (relay contract §3-5: `bufferId` and the event's ids are
 * strings): numeric ids that are exact integers are taken as their decimal strings, and dedupe
 * and session keys see the same string a conforming connector would send; an empty `bufferId`
 * is refused with a clear reason, never taken as a dedupe key. Lines go through the real decoder
 * into a real inbox (SQLite file, plugin pool).
 */
import test from 'ava';
import { decodeFrame } from '../../../core/protocol/decode.js';
import type { IncomingOf } from '../../../core/protocol/frames.js';
import { rows, sharedHost, startInbox, until } from './inbox-harness.js';

const host = sharedHost();

/** Decode `frame` as the read path does; fails the test unless it is an inbound frame. */
function decodeInbound(frame: unknown): IncomingOf<'inbound'> {
  const r = decodeFrame(JSON.stringify(frame));
  if (!r.ok || r.frame.type !== 'inbound') throw new Error(`not decoded: ${JSON.stringify(r)}`);
  return r.frame;
}

test('numeric chat, user and message ids are taken as decimal strings, and dedupe on them like strings', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const numeric = { text: 'n', message_id: 42, source: { platform: 'telegram', chat_id: 12345, user_id: 7 } };
  const textual = {
    text: 'n',
    message_id: '42',
    source: { platform: 'telegram', chat_id: '12345', user_id: '7' },
  };
  h.inbox.routes.inbound(decodeInbound({ type: 'inbound', event: numeric }));
  h.inbox.routes.inbound(decodeInbound({ type: 'inbound', event: textual }));
  await until(async () => (await h.metrics.value('relay_duplicates_total')) === 1, 10_000, 'the duplicate');
  t.is(rows(h).length, 1, 'the string form of the same message is a duplicate');
  const [row] = rows(h);
  if (!row) return;
  t.is(row.session_key, 'agent:main:telegram:dm:12345');
  const event = (row.envelope as { event: { message_id: unknown; source: Record<string, unknown> } }).event;
  t.is(event.message_id, '42');
  t.like(event.source, { chat_id: '12345', user_id: '7' });
});

test('an id that is not an exact integer is refused with its path, never rounded into another id', (t) => {
  // 2^53 + 1 reads back as 2^53: two Discord snowflakes sent as numbers could become one key
  for (const chat_id of ['9007199254740993', '1.5', '-0.5']) {
    const r = decodeFrame(
      `{"type":"inbound","bufferId":"b1","event":{"source":{"platform":"discord","chat_id":${chat_id}}}}`,
    );
    t.like(r, { ok: false, code: 'CORE_ERR_FRAME_SCHEMA', bufferId: 'b1' });
    if (!r.ok) t.regex(r.reason, /event\.source\.chat_id: .*send ids as strings/);
  }
});

test('an empty bufferId is refused with a clear reason and is no dedupe key', (t) => {
  const r = decodeFrame(
    JSON.stringify({
      type: 'inbound',
      bufferId: '',
      event: { text: 'e', source: { platform: 'telegram', chat_id: 'C1' } },
    }),
  );
  t.like(r, { ok: false, code: 'CORE_ERR_FRAME_SCHEMA', type: 'inbound' });
  if (r.ok) return;
  t.regex(r.reason, /bufferId: .*non-empty/);
  // nothing to ack or dead-letter under an empty id
  t.is(r.bufferId, undefined);
});
