/**
 * Pull delivery through the inbox: SSE events (`id:`, `event:`, `data:`), at most
 * `agent.maxInFlight` unacked, one unacked per session, acks release the next, a reconnect
 * re-sends what is unacked, a new stream replaces the old, acks after a restart are honoured.
 * (The HTTP side of `GET /v1/events` is tested with the agent API.)
 */
import test, { type ExecutionContext } from 'ava';
import type { Json } from '../../helpers/loopback-agent.js';
import { inbound, rows, sharedHost, startInbox, until } from '../inbox/inbox-harness.js';

const host = sharedHost();

interface SseEvent {
  id: string;
  event: string;
  data: Json;
}

/** A stream as the agent API hands it over, parsing what is written. */
class FakeStream {
  chunks: string[] = [];
  ended = false;
  private closers: (() => void)[] = [];

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const cb of this.closers) cb();
  }

  onClose(cb: () => void): void {
    this.closers.push(cb);
  }

  /** The client went away. */
  drop(): void {
    this.end();
  }

  events(): SseEvent[] {
    return this.chunks
      .join('')
      .split('\n\n')
      .filter((block) => block.startsWith('id: '))
      .map((block) => {
        const [id, event, data] = block.split('\n').map((line) => line.slice(line.indexOf(': ') + 2));
        return { id: id!, event: event!, data: JSON.parse(data!) as Json };
      });
  }
}

const pull = (agent: Record<string, unknown> = {}) => ({ agent: { mode: 'pull', ...agent } });

test('events arrive as SSE; at most maxInFlight are unacked; an ack releases the next', async (t) => {
  const h = await startInbox(t, host(), { config: pull({ maxInFlight: 2 }) });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  for (const chat of ['P1', 'P2', 'P3', 'P4']) h.inbox.routes.inbound(inbound({ text: chat, chat }));
  await until(() => rows(h).length === 4 && stream.events().length === 2);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const first = stream.events();
  t.is(first.length, 2);
  t.is(first[0]?.event, 'message');
  t.is(first[0]?.id, first[0]?.data.id);
  t.is(first[0]?.data.attempt, 1);
  t.is(h.inbox.stats().inflight, 2);
  t.is(h.inbox.pull!.ack(first[0]!.id), 'acked');
  await until(() => stream.events().length === 3);
  t.is(h.inbox.pull!.ack(first[1]!.id), 'acked');
  await until(() => stream.events().length === 4);
  for (const e of stream.events().slice(2)) h.inbox.pull!.ack(e.id);
  await until(() => rows(h).every((r) => r.state === 'delivered'));
  t.deepEqual(
    stream.events().map((e) => e.data.event.text),
    ['P1', 'P2', 'P3', 'P4'],
  );
  t.is(h.inbox.pull!.ack('dlv_unknown'), 'unknown');
  t.is(h.inbox.pull!.ack(first[0]!.id), 'acked', 'acking twice is harmless');
});

test('an interrupt waiting for a slot goes before the next queued message of its session', async (t) => {
  // pull keeps agent.maxInFlight strict: with one slot held by m1, the interrupt can only wait
  const h = await startInbox(t, host(), { config: pull({ maxInFlight: 1 }) });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  for (const m of ['m1', 'm2']) h.inbox.routes.inbound(inbound({ text: m, chat: 'I2' }));
  await until(() => rows(h).length === 2 && stream.events().length === 1);
  h.inbox.submitInterrupt('agent:main:telegram:dm:I2', 'stop');
  await until(() => rows(h).length === 3);
  // m1's lane holds the slot; once acked it must hand the slot to the interrupt, not to m2
  h.inbox.pull!.ack(stream.events()[0]!.id);
  for (let i = 1; i < 3; i++) {
    await until(() => stream.events().length === i + 1);
    h.inbox.pull!.ack(stream.events()[i]!.id);
  }
  t.deepEqual(
    stream.events().map((e) => e.event),
    ['message', 'interrupt', 'message'],
  );
  t.is(stream.events()[2]?.data.event.text, 'm2');
  await until(() => rows(h).every((r) => r.state === 'delivered'));
});

test('deliveries ready in the same turn reach the stream in one write', async (t) => {
  const h = await startInbox(t, host(), { config: pull({ maxInFlight: 64 }) });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  await until(() => stream.chunks.length === 1); // the retry hint
  // one socket chunk's worth of frames: committed together, started together, written together
  for (let i = 0; i < 20; i++) h.inbox.routes.inbound(inbound({ text: `B${i}`, chat: `B${i}` }));
  await until(() => stream.events().length === 20);
  t.true(stream.chunks.length <= 4, `20 events in ${stream.chunks.length - 1} writes`);
  t.deepEqual(
    stream.events().map((e) => e.data.event.text),
    Array.from({ length: 20 }, (_, i) => `B${i}`),
  );
});

test('one session has one unacked delivery at a time: order holds across acks', async (t) => {
  const h = await startInbox(t, host(), { config: pull({ maxInFlight: 8 }) });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  for (const m of ['a', 'b', 'c']) h.inbox.routes.inbound(inbound({ text: m, chat: 'O1' }));
  await until(() => rows(h).length === 3 && stream.events().length === 1);
  for (let i = 0; i < 3; i++) {
    await until(() => stream.events().length === i + 1);
    t.is(stream.events()[i]?.data.event.text, ['a', 'b', 'c'][i]);
    h.inbox.pull!.ack(stream.events()[i]!.id);
  }
  await until(() => rows(h).every((r) => r.state === 'delivered'));
});

test('a reconnect re-sends unacked deliveries (attempt + 1); a new stream replaces the old', async (t) => {
  const h = await startInbox(t, host(), { config: pull() });
  const first = new FakeStream();
  h.inbox.pull!.attach(first);
  h.inbox.routes.inbound(inbound({ text: 'r1', chat: 'C1' }));
  h.inbox.routes.inbound(inbound({ text: 'r2', chat: 'C2' }));
  await until(() => first.events().length === 2);
  h.inbox.pull!.ack(first.events()[0]!.id);
  first.drop();
  const second = new FakeStream();
  h.inbox.pull!.attach(second, first.events()[1]!.id);
  await until(() => second.events().length === 1);
  t.deepEqual(
    second.events().map((e) => [e.data.event.text, e.data.attempt]),
    [['r2', 2]],
  );
  t.is(second.events()[0]?.id, first.events()[1]?.id);
  const third = new FakeStream();
  h.inbox.pull!.attach(third);
  t.true(second.ended, 'the replaced stream was ended');
  t.false(third.ended);
  await until(() => third.events().length === 1);
  t.deepEqual(
    third.events().map((e) => [e.data.event.text, e.data.attempt]),
    [['r2', 3]],
  );
  h.inbox.pull!.ack(third.events()[0]!.id);
  await until(() => rows(h).every((r) => r.state === 'delivered'));
});

test('deliveries wait for a stream; keep-alive comments flow while one is attached', async (t) => {
  const h = await startInbox(t, host(), { config: pull(), pullKeepAliveMs: 20 });
  h.inbox.routes.inbound(inbound({ text: 'waiting' }));
  await until(() => rows(h).length === 1);
  t.is(rows(h)[0]?.attempt, 0, 'nothing is sent without a stream');
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  await until(() => stream.events().length === 1);
  t.is(stream.events()[0]?.data.event.text, 'waiting');
  await until(() => stream.chunks.includes(': keep-alive\n\n'));
});

test('an ack after a restart for a delivery sent before it is honoured; it is not sent again', async (t) => {
  const h = await startInbox(t, host(), { config: pull() });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  h.inbox.routes.inbound(inbound({ text: 'before restart', chat: 'Q1' }));
  h.inbox.routes.inbound(inbound({ text: 'unacked', chat: 'Q2' }));
  await until(() => stream.events().length === 2);
  const [sent, other] = stream.events();
  const again = await h.reopen();
  t.is(again.inbox.pull!.ack(sent!.id), 'acked');
  await until(() => rows(again)[0]?.state === 'delivered');
  const next = new FakeStream();
  again.inbox.pull!.attach(next);
  await until(() => next.events().length === 1);
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.deepEqual(
    next.events().map((e) => [e.id, e.data.attempt]),
    [[other!.id, 2]],
  );
  again.inbox.pull!.ack(other!.id);
  await until(() => rows(again).every((r) => r.state === 'delivered'));
});

/**
 * One message sent on a stream, then a restart whose envelope reads fail (a real SQLite error:
 * after a restart the envelope is read from the store) while a new stream is attached; resolves
 * once a read has failed. `restore()` makes the store readable again.
 */
async function sentThenUnreadable(t: ExecutionContext, text: string) {
  const h = await startInbox(t, host(), { config: pull({ retryBaseMs: 20, retryMaxMs: 50 }) });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  h.inbox.routes.inbound(inbound({ text, chat: text }));
  await until(() => stream.events().length === 1 && rows(h)[0]?.attempt === 1);
  const again = await h.reopen({ start: false });
  again.inbox.store.db.exec('ALTER TABLE inbox_envelopes RENAME TO inbox_envelopes_away');
  const next = new FakeStream();
  again.inbox.pull!.attach(next);
  again.inbox.start();
  await until(() => again.sink.lines.some((line) => /inbox_envelopes/.test(JSON.stringify(line))));
  const restore = () =>
    again.inbox.store.db.exec('ALTER TABLE inbox_envelopes_away RENAME TO inbox_envelopes');
  return { sent: stream.events()[0]!, again, next, restore };
}

test('an attempt whose envelope cannot be read is tried again while the same stream stays attached', async (t) => {
  const { again, next, restore } = await sentThenUnreadable(t, 'from disk');
  restore();
  // no new stream: the attempt comes again by itself once the store reads again
  await until(() => next.events().length === 1);
  t.deepEqual(
    next.events().map((e) => [e.data.event.text, e.data.attempt]),
    [['from disk', 2]],
  );
  again.inbox.pull!.ack(next.events()[0]!.id);
  await until(() => rows(again).every((r) => r.state === 'delivered'));
});

test('an ack that comes while the delivery waits to retry a failed read ends it: not sent again, nothing kept for it', async (t) => {
  const { sent, again, next, restore } = await sentThenUnreadable(t, 'acked late');
  // the agent acks what it got before the restart while the retries fail
  t.is(again.inbox.pull!.ack(sent.id), 'acked');
  restore();
  const { skipped } = (again.inbox as unknown as { delivery: { scheduler: { skipped: Set<string> } } })
    .delivery.scheduler;
  // was: its id stayed in the scheduler's skip set for good (it was never queued again)
  await until(() => skipped.size === 0);
  t.is(rows(again)[0]?.state, 'delivered');
  t.deepEqual(next.events(), []);
});

test('the shutdown waits for acks: an ack ends the wait, the next delivery of its session is not sent', async (t) => {
  const h = await startInbox(t, host(), { config: pull() });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  h.inbox.routes.inbound(inbound({ text: 'first', chat: 'S1' }));
  h.inbox.routes.inbound(inbound({ text: 'second', chat: 'S1' }));
  await until(() => stream.events().length === 1 && rows(h).length === 2);
  // a budget far past the test's timeout: only the ack can end this wait
  const order: string[] = [];
  const quiesced = h.inbox.quiesce(600_000).then((left) => order.push(`quiesced ${left}`));
  // was: the wait ended at once, and the API closed before the agent's ack
  await new Promise((resolve) => setTimeout(resolve, 100));
  order.push('acked');
  h.inbox.pull!.ack(stream.events()[0]!.id);
  await quiesced;
  t.deepEqual(order, ['acked', 'quiesced 0']);
  await until(() => rows(h)[0]?.state === 'delivered');
  t.is(rows(h)[1]?.state, 'pending');
  t.is(stream.events().length, 1, 'nothing new is sent once the shutdown began');
});

test('the shutdown’s wait for acks ends when the stream closes, and reports what the budget left unacked', async (t) => {
  const h = await startInbox(t, host(), { config: pull() });
  const stream = new FakeStream();
  h.inbox.pull!.attach(stream);
  h.inbox.routes.inbound(inbound({ text: 'never acked', chat: 'S2' }));
  await until(() => stream.events().length === 1);
  t.is(await h.inbox.quiesce(30), 1, 'the budget ran out with one delivery unacked');
  const quiesced = h.inbox.quiesce(600_000);
  stream.drop();
  t.is(await quiesced, 0, 'nobody is left to ack');
});
