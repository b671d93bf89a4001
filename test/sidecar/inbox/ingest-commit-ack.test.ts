/**
 * The ingest pipeline on real parts (plugin pool, SQLite file), commit before ack: a buffered frame is
 * committed then acked, dedupe by bufferId and by platform:chat:message across restarts, live frames never
 * acked, interrupts committed, a failed commit or a refused ack leaving the frame to redelivery, and a
 * redelivered frame already committed acked without the plugins.
 */
import test from 'ava';
import type { InboundRoutes } from '../../../core/router/inbound-routes.js';
import { inbound, rows, sharedHost, startInbox, until, wrapInbound } from './inbox-harness.js';
import { gated } from './ingest-harness.js';

const host = sharedHost();

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
