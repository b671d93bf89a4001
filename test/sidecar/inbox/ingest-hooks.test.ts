/**
 * The ingest pipeline on real parts (plugin pool, SQLite file) through the plugins: a passthrough forward
 * converted in the pool, an event a hook drops, arrival order kept when an earlier frame is slower in the
 * plugins, and the session key a hook moves.
 */
import test from 'ava';
import { forward, inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';

const host = sharedHost();

test('a passthrough forward is converted in the pool; origin names the plugin and bufferId', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.passthrough_forward(
    forward('echo', { text: 'from echo', chat_id: 'E1' }, { bufferId: 'pbuf-1' }),
  );
  await until(() => h.acks.length === 1);
  const [row] = rows(h);
  t.deepEqual(row?.envelope.origin, { frame: 'passthrough_forward', plugin: 'echo', buffer_id: 'pbuf-1' });
  t.deepEqual(row?.envelope.capabilities, ['echo.reply', 'echo.seen']);
  t.is(row?.envelope.event.text, 'from echo');
  t.true(h.acks[0]?.committedBefore);
});

test('an event dropped by an inbound hook is acked and nothing is delivered', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'drop me', bufferId: 'buf-drop' }));
  await until(() => h.acks.length === 1);
  t.is(rows(h).length, 0);
  t.deepEqual(h.inbox.stats().dead_letters, []);
});

test('frames are committed in arrival order even when an earlier one is slower in the plugins', async (t) => {
  const h = await startInbox(t, host(), {
    start: false,
    wrap: wrapInbound(async (input, real) => {
      const out = await real.runInbound(input);
      if (input.event.text.startsWith('slow')) await new Promise((resolve) => setTimeout(resolve, 60));
      return out;
    }),
  });
  const texts = ['slow 1', 'fast 2', 'slow 3', 'fast 4', 'fast 5'];
  for (const [i, text] of texts.entries()) h.inbox.routes.inbound(inbound({ text, bufferId: `b${i}` }));
  await until(() => h.acks.length === 5);
  t.deepEqual(
    rows(h).map((r) => r.envelope.event.text),
    texts,
  );
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['b0', 'b1', 'b2', 'b3', 'b4'],
  );
});

test('the session key is the incoming one for an unchanged event and follows a hook that moves it', async (t) => {
  const h = await startInbox(t, host(), {
    start: false,
    wrap: wrapInbound(async (input, real) => {
      if (input.event.text === 'as is') return { kind: 'event', event: input.event, capabilities: [] };
      const out = await real.runInbound(input);
      if (out.kind !== 'event') return out;
      return { ...out, event: { ...out.event, source: { ...out.event.source, chat_id: 'C-moved' } } };
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'as is', chat: 'C1', user: 'U1', bufferId: 'k1' }));
  h.inbox.routes.inbound(inbound({ text: 'move me', chat: 'C1', user: 'U1', bufferId: 'k2' }));
  await until(() => h.acks.length === 2);
  t.deepEqual(
    rows(h).map((r) => [r.envelope.event.text, r.envelope.session_key]),
    [
      ['as is', 'agent:main:telegram:dm:C1'],
      ['move me', 'agent:main:telegram:dm:C-moved'],
    ],
  );
});
