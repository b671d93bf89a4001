/**
 * Poison frames on the real pool: a final verdict (a rejected forward, a discord body the plugin cannot
 * use, a platform no plugin converts, a schema-failed frame) dead-letters and acks, nothing lost and
 * nothing wedged, and the dead letter holds no secret; a benign drop is acked and counted but not dead-
 * lettered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { PassthroughForwardFrameSchema } from '../../../core/protocol/frames.js';
import { REDACTED_VALUE } from '../../../sidecar/inbox/redact-text.js';
import type { Json } from '../../helpers/loopback-agent.js';
import { forward, rows, sharedHost, startInbox, until } from './inbox-harness.js';
import { ECHO_AND_DISCORD } from './poison-harness.js';

const echo = sharedHost(ECHO_AND_DISCORD);

test('a rejected forward is dead-lettered and acked; its secrets are not stored anywhere', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  const secret = 'SECRET-interaction-token-7f3a';
  h.inbox.routes.passthrough_forward(
    forward(
      'echo',
      { token: secret, not_text: 1 },
      {
        bufferId: 'pz-1',
        headers: [
          ['authorization', `Bearer ${secret}`],
          ['content-type', 'application/json'],
        ],
      },
    ),
  );
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'pz-1', committedBefore: true }]);
  const stats = h.inbox.stats();
  t.is(stats.dead, 1);
  t.is(stats.dead_letters[0]?.kind, 'frame');
  t.is(stats.dead_letters[0]?.code, 'CORE_ERR_PLUGIN_REJECTED');
  const letter = h.inbox.deadLetter(stats.dead_letters[0]!.id) as { payload: { frame: Json } };
  t.is(letter.payload.frame.bufferId, 'pz-1');
  t.deepEqual(letter.payload.frame.forward.headers, [['content-type', 'application/json']]);
  const body = JSON.parse(Buffer.from(letter.payload.frame.forward.bodyB64, 'base64').toString('utf8'));
  t.deepEqual(body, { not_text: 1 });
  // the same frame redelivered is a duplicate: acked, not dead-lettered twice
  h.inbox.routes.passthrough_forward(forward('echo', { token: secret, not_text: 1 }, { bufferId: 'pz-1' }));
  await until(() => h.acks.length === 2);
  t.is(h.inbox.stats().dead, 1);
  const files = readdirSync(h.dataDir).filter((f) => f.startsWith('sidecar.db'));
  t.true(files.length > 0);
  for (const f of files) t.false(readFileSync(join(h.dataDir, f)).toString('latin1').includes(secret), f);
  t.false(h.sink.text().includes(secret));
});

test('a discord body the plugin cannot use (cut off, or BOM and unknown type) is dead-lettered without its token', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  const secret = 'aW50ZXJhY3Rpb246OTk5OmxlYWtlZC10b2tlbg';
  const interaction = `{"type":2,"id":"1","channel_id":"c","token":"${secret}","data":{"name":"deploy"}}`;
  const bodies: Record<string, Buffer> = {
    'cut-off': Buffer.from(interaction.slice(0, interaction.indexOf(secret) + 12)),
    bom: Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(interaction.replace('"type":2', '"type":99')),
    ]),
  };
  for (const [bufferId, body] of Object.entries(bodies)) {
    h.inbox.routes.passthrough_forward(
      PassthroughForwardFrameSchema.parse({
        type: 'passthrough_forward',
        bufferId,
        forward: {
          platform: 'discord',
          botId: 'B1',
          method: 'POST',
          path: '/i',
          headers: [],
          bodyB64: body.toString('base64'),
        },
      }),
    );
  }
  await until(() => h.acks.length === 2);
  const letters = h.inbox.stats().dead_letters;
  t.deepEqual(
    letters.map((l) => l.code),
    ['CORE_ERR_PLUGIN_REJECTED', 'CORE_ERR_PLUGIN_REJECTED'],
  );
  const kept = new Map(
    letters.map((l) => {
      const letter = h.inbox.deadLetter(l.id) as { payload: { frame: Json } };
      return [
        letter.payload.frame.bufferId,
        Buffer.from(letter.payload.frame.forward.bodyB64, 'base64').toString(),
      ];
    }),
  );
  // forensic value kept: the cut-off body as it was up to the token, the BOM body as the JSON it is
  t.is(kept.get('cut-off'), `{"type":2,"id":"1","channel_id":"c","token":${REDACTED_VALUE}`);
  t.like(JSON.parse(kept.get('bom') ?? '{}'), { type: 99, id: '1', data: { name: 'deploy' } });
  const files = readdirSync(h.dataDir).filter((f) => f.startsWith('sidecar.db'));
  for (const f of files) t.false(readFileSync(join(h.dataDir, f)).toString('latin1').includes(secret), f);
  t.false(h.sink.text().includes(secret));
});

test('a forward for a platform no plugin converts is dead-lettered and acked', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.passthrough_forward(forward('nowhere', { text: 'x' }, { bufferId: 'pz-2' }));
  await until(() => h.acks.length === 1);
  t.is(h.inbox.stats().dead_letters[0]?.code, 'CORE_ERR_PLUGIN_PLATFORM_DISABLED');
  t.is(rows(h).length, 0);
});

test('a benign drop (normal traffic, no event) is acked and counted but not dead-lettered', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.passthrough_forward(forward('echo', { text: 'heartbeat' }, { bufferId: 'hb-1' }));
  await until(() => h.acks.length === 1);
  t.deepEqual(h.acks, [{ bufferId: 'hb-1', committedBefore: true }]);
  t.is(h.inbox.stats().dead, 0);
  t.is(rows(h).length, 0);
  // a redelivery of the same buffered frame is recognised and acked again, still nothing stored
  h.inbox.routes.passthrough_forward(forward('echo', { text: 'heartbeat' }, { bufferId: 'hb-1' }));
  await until(() => h.acks.length === 2);
  t.is(h.inbox.stats().dead, 0);
});

test('a schema-failed frame reported by the relay client is dead-lettered and acked', async (t) => {
  const h = await startInbox(t, echo(), { start: false });
  h.inbox.routes.poison({
    bufferId: 'pz-3',
    code: 'CORE_ERR_FRAME_SCHEMA',
    reason: 'event.source: required',
    type: 'inbound',
  });
  await until(() => h.acks.length === 1);
  const [letter] = h.inbox.stats().dead_letters;
  t.is(letter?.code, 'CORE_ERR_FRAME_SCHEMA');
  // nothing to re-run: the relay client does not keep the bad frame
  t.is(h.inbox.replay(letter!.id), 'not_replayable');
  t.is(h.sink.withCode('CORE_ERR_INBOX_REPLAY_FAILED').length, 1);
});

test('a dead letter stored without its body is not replayed: its plugin would read an empty body', async (t) => {
  // was: replayed, the plugin read an empty body and the letter's error was overwritten by that one
  const h = await startInbox(t, echo(), { start: false });
  const frame = PassthroughForwardFrameSchema.parse({
    type: 'passthrough_forward',
    bufferId: 'pz-9',
    forward: {
      platform: 'echo',
      botId: 'B1',
      method: 'POST',
      path: '/webhook',
      headers: [['content-type', 'application/octet-stream']],
      // NUL bytes: no text to search for credentials, so the dead letter keeps no body
      bodyB64: Buffer.from([0x74, 0, 0x6f, 0, 0x6b, 0]).toString('base64'),
    },
  });
  h.inbox.routes.passthrough_forward(frame);
  await until(() => h.acks.length === 1);
  const [letter] = h.inbox.stats().dead_letters;
  const stored = h.inbox.deadLetter(letter!.id) as { payload: { frame: Json } };
  t.truthy(stored.payload.frame.forward.bodyOmitted);
  t.is(h.inbox.replay(letter!.id), 'not_replayable');
  t.is(h.sink.withCode('CORE_ERR_INBOX_REPLAY_FAILED').length, 1);
  const [kept] = h.inbox.stats().dead_letters;
  t.is(kept?.id, letter?.id);
  t.is(kept?.code, letter?.code, 'its own error kept');
});
