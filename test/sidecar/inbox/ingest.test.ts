/**
 * The ingest pipeline on real parts (plugin pool, SQLite file): commit before ack, dedupe by
 * bufferId and by platform:chat:message across restarts, live frames never acked, interrupts.
 */
import test from 'ava';
import type { InboundRoutes } from '../../../core/router/inbound-routes.js';
import { forward, inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';

const host = sharedHost();

/** A promise the test opens when it wants: hooks awaiting `gate` hold their frames until `release()`. */
function gated(): { gate: Promise<void>; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { gate, release };
}

test('a buffered inbound frame is committed, then acked; the envelope is as agent-api.md says', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'hi', chat: 'C9', user: 'U9', bufferId: 'buf-1' }));
  await until(() => h.acks.length === 1, 3_000, 'ack');
  t.deepEqual(h.acks, [{ bufferId: 'buf-1', committedBefore: true }]);
  const [row] = rows(h);
  t.is(row?.state, 'pending');
  const env = row!.envelope;
  t.regex(env.id, /^dlv_[0-9A-Z]{26}$/);
  t.deepEqual(Object.keys(env), [
    'id',
    'type',
    'session_key',
    'received_at',
    'attempt',
    'event',
    'capabilities',
    'origin',
  ]);
  t.is(env.type, 'message');
  t.is(env.session_key, 'agent:main:telegram:dm:C9');
  t.is(env.event.text, 'hi');
  t.is(env.event.echo_seen, true, 'the inbound hook of the echo plugin ran in the pool');
  t.deepEqual(env.capabilities, ['echo.seen']);
  t.deepEqual(env.origin, { frame: 'inbound', buffer_id: 'buf-1' });
  t.false(Number.isNaN(Date.parse(env.received_at)));
  t.is(await h.metrics.value('relay_inbox_depth'), 1);
});

test('a replayed bufferId is acked again but never committed twice, across a restart', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'one', bufferId: 'buf-dup' }));
  await until(() => h.acks.length === 1);
  h.inbox.routes.inbound(inbound({ text: 'one', bufferId: 'buf-dup' }));
  await until(() => h.acks.length === 2);
  t.is(rows(h).length, 1);
  t.is(await h.metrics.value('relay_duplicates_total'), 1);
  const again = await h.reopen({ start: false });
  again.inbox.routes.inbound(inbound({ text: 'one', bufferId: 'buf-dup' }));
  await until(() => again.acks.length === 1);
  t.deepEqual(again.acks, [{ bufferId: 'buf-dup', committedBefore: true }]);
  t.is(rows(again).length, 1);
  t.is(await again.metrics.value('relay_duplicates_total'), 1);
});

test('two copies of one bufferId in flight at once commit once and are both acked', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'x', bufferId: 'buf-twin' }));
  h.inbox.routes.inbound(inbound({ text: 'x', bufferId: 'buf-twin' }));
  await until(() => h.acks.length === 2);
  t.is(rows(h).length, 1);
  t.true(h.acks.every((a) => a.committedBefore));
});

test('live frames are never acked; they dedupe on platform:chat:message across a restart', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.inbound(inbound({ text: 'a', chat: 'C1', messageId: 'm1' }));
  h.inbox.routes.inbound(inbound({ text: 'a', chat: 'C1', messageId: 'm1' }));
  h.inbox.routes.inbound(inbound({ text: 'b', chat: 'C2', messageId: 'm1' }));
  h.inbox.routes.inbound(inbound({ text: 'no id' }));
  h.inbox.routes.inbound(inbound({ text: 'no id' }));
  await until(() => rows(h).length === 4 && h.inbox.stats().pending === 4);
  t.deepEqual(h.acks, []);
  t.is(await h.metrics.value('relay_duplicates_total'), 1);
  const again = await h.reopen({ start: false });
  again.inbox.routes.inbound(inbound({ text: 'a', chat: 'C1', messageId: 'm1' }));
  again.inbox.routes.inbound(inbound({ text: 'c', chat: 'C1', messageId: 'm2' }));
  await until(() => rows(again).length === 5);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(rows(again).length, 5);
  t.is(await again.metrics.value('relay_duplicates_total'), 1);
  t.deepEqual(again.acks, []);
});

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

test('an interrupt_inbound frame is committed as an interrupt, never acked', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  h.inbox.routes.interrupt_inbound({
    type: 'interrupt_inbound',
    session_key: 'agent:main:telegram:dm:C1',
    chat_id: 'C1',
  });
  const id = h.inbox.submitInterrupt('agent:main:telegram:dm:C2', 'user pressed stop');
  const all = rows(h);
  t.is(all.length, 2);
  t.deepEqual(
    all.map((r) => [r.type, r.envelope.interrupt, r.envelope.origin]),
    [
      ['interrupt', { chat_id: 'C1', reason: null }, { frame: 'interrupt_inbound' }],
      ['interrupt', { chat_id: null, reason: 'user pressed stop' }, { frame: 'local' }],
    ],
  );
  t.is(all[1]?.id, id);
  t.deepEqual(h.acks, []);
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

test('a full pipeline asks for backpressure and releases it once drained', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    config: { inbox: { maxIngestPending: 4 } },
    wrap: wrapInbound(async (input, real) => {
      await gate;
      return real.runInbound(input);
    }),
  });
  const seen: boolean[] = [];
  h.inbox.onBackpressure((paused) => seen.push(paused));
  for (let i = 0; i < 6; i++) h.inbox.routes.inbound(inbound({ text: `m${i}`, bufferId: `bp${i}` }));
  t.deepEqual(seen, [true]);
  release();
  await until(() => h.acks.length === 6);
  t.deepEqual(seen, [true, false]);
  t.is(rows(h).length, 6);
});

test('past twice maxIngestPending frames are still taken (a live one is never redelivered), reported once', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    config: { inbox: { maxIngestPending: 2 } },
    wrap: wrapInbound(async (input, real) => {
      await gate;
      return real.runInbound(input);
    }),
  });
  // one socket read can bring many frames after reading was paused: none may be dropped
  for (let i = 0; i < 6; i++) h.inbox.routes.inbound(inbound({ text: `m${i}`, bufferId: `ov${i}` }));
  for (let i = 0; i < 3; i++) h.inbox.routes.inbound(inbound({ text: `live${i}`, messageId: `live-${i}` }));
  t.is(h.sink.withCode('CORE_ERR_INBOX_OVERLOADED').length, 1);
  release();
  await until(() => rows(h).length === 9);
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['ov0', 'ov1', 'ov2', 'ov3', 'ov4', 'ov5'],
  );
});

test('quiesce waits for the frames taken so far and keeps taking new ones; close commits those', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    wrap: wrapInbound(async (input, real) => {
      if (input.event.text === 'slow') await gate;
      return real.runInbound(input);
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'first', bufferId: 'st-1' }));
  const settled = h.inbox.quiesce(5_000);
  h.inbox.routes.inbound(inbound({ text: 'slow', bufferId: 'st-2' }));
  await settled;
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['st-1'],
    'quiesce did not wait for the frame taken after it started',
  );
  const closed = h.inbox.close(5_000);
  release();
  await closed;
  // committed (a buffered frame is acked only after its commit) before the store closed
  t.deepEqual(
    h.acks.map((a) => a.bufferId),
    ['st-1', 'st-2'],
  );
  // once closed, a frame is refused with a stable code
  h.inbox.routes.inbound(inbound({ text: 'too late', bufferId: 'st-3' }));
  t.is(h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length, 1);
});

test('the routes fit the relay client; a refused ack (no socket) leaves the frame to redelivery', async (t) => {
  let connected = false;
  const h = await startInbox(t, host(), { start: false, ackResult: () => connected });
  const routes: InboundRoutes = h.inbox.routes; // compile-time: what RelayClient.setRoutes takes
  t.is(typeof routes.poison, 'function');
  routes.inbound(inbound({ text: 'x', bufferId: 'nosock-1' }));
  await until(() => h.acks.length === 1);
  await h.sink.waitFor((l) => l.msg === 'inbound_ack not sent: no socket' && l.bufferId === 'nosock-1');
  connected = true;
  // the redelivery after a reconnect is a duplicate: acked again, not committed again
  routes.inbound(inbound({ text: 'x', bufferId: 'nosock-1' }));
  await until(() => h.acks.length === 2);
  t.is(rows(h).length, 1);
});

test('a frame whose commit fails is not acked, its neighbours commit alone, and its redelivery commits', async (t) => {
  const { gate, release } = gated();
  const h = await startInbox(t, host(), {
    start: false,
    // the three results reach the chain in one turn, so they share one group transaction
    wrap: wrapInbound(async (input, real) => {
      const out = await real.runInbound(input);
      await gate;
      return out;
    }),
  });
  // a real SQLite failure for one frame's row (a TEMP trigger lives on this connection only)
  h.inbox.store.db.exec(`CREATE TEMP TRIGGER refuse_boom BEFORE INSERT ON main.inbox_envelopes
    WHEN instr(NEW.envelope, '"text":"boom"') > 0 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
  h.inbox.routes.inbound(inbound({ text: 'ok one', bufferId: 'cf-1' }));
  h.inbox.routes.inbound(inbound({ text: 'boom', bufferId: 'cf-2' }));
  h.inbox.routes.inbound(inbound({ text: 'ok two', bufferId: 'cf-3' }));
  release();
  const failed = await h.sink.waitFor((l) => l.code === 'CORE_ERR_INBOX_COMMIT_FAILED');
  t.is(failed.bufferId, 'cf-2');
  // the acks of one commit run go out in the same turn as its failure line
  t.deepEqual(h.acks, [
    { bufferId: 'cf-1', committedBefore: true },
    { bufferId: 'cf-3', committedBefore: true },
  ]);
  t.deepEqual(
    rows(h).map((r) => r.envelope.event.text),
    ['ok one', 'ok two'],
  );
  // the store works again; the connector redelivers the un-acked frame: it is new, not a duplicate
  h.inbox.store.db.exec('DROP TRIGGER temp.refuse_boom');
  h.inbox.routes.inbound(inbound({ text: 'boom', bufferId: 'cf-2' }));
  await until(() => h.acks.length === 3);
  t.deepEqual(h.acks[2], { bufferId: 'cf-2', committedBefore: true });
  t.deepEqual(
    rows(h).map((r) => r.envelope.event.text),
    ['ok one', 'ok two', 'boom'],
  );
  t.is(await h.metrics.value('relay_duplicates_total'), 0);
});

test('a redelivered frame that was already committed is acked without running the plugins again', async (t) => {
  const hooked: string[] = [];
  const h = await startInbox(t, host(), {
    start: false,
    wrap: wrapInbound((input, real) => {
      hooked.push(input.event.text);
      return real.runInbound(input);
    }),
  });
  h.inbox.routes.inbound(inbound({ text: 'once', bufferId: 'rd-1' }));
  await until(() => h.acks.length === 1);
  h.inbox.routes.inbound(inbound({ text: 'once', bufferId: 'rd-1' }));
  await until(() => h.acks.length === 2);
  t.deepEqual(hooked, ['once']);
  t.is(rows(h).length, 1);
});

test('an interrupt_inbound a connector buffered anyway (off-contract bufferId) is acked once committed and delivered once across redeliveries and a restart', async (t) => {
  const h = await startInbox(t, host(), { start: false });
  const frame = {
    type: 'interrupt_inbound' as const,
    bufferId: 'buf-stop',
    session_key: 'agent:main:telegram:dm:C1',
    chat_id: 'C1',
  };
  h.inbox.routes.interrupt_inbound(frame);
  h.inbox.routes.interrupt_inbound(frame);
  t.deepEqual(
    h.acks.map((a) => [a.bufferId, a.committedBefore]),
    [
      ['buf-stop', true],
      ['buf-stop', true],
    ],
  );
  t.is(rows(h).length, 1);
  t.is(await h.metrics.value('relay_duplicates_total'), 1);
  const again = await h.reopen({ start: false });
  again.inbox.routes.interrupt_inbound(frame);
  t.deepEqual(again.acks, [{ bufferId: 'buf-stop', committedBefore: true }]);
  t.is(rows(again).length, 1);
});
