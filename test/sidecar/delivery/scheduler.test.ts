/**
 * Scheduling against a real loopback agent: per-session order with sessions in parallel up to
 * `agent.concurrency`, interrupts ahead of queued messages (and beside a turn in flight), a slow
 * session never stalls another, and a restart redelivers what was not delivered — same id,
 * next attempt — and never what was.
 */
import test from 'ava';
import { type RecordedDelivery, startAgent } from '../../helpers/loopback-agent.js';
import { inbound, pushTo, rows, sharedHost, startInbox, TOKEN, until } from '../inbox/inbox-harness.js';

const host = sharedHost();

const text = (d: RecordedDelivery) =>
  d.envelope?.type === 'interrupt' ? 'INT' : (d.envelope?.event?.text as string);
/** Texts per session in first-arrival order of each delivery id (retries are not new arrivals). */
const bySession = (all: readonly RecordedDelivery[]) => {
  const out = new Map<string, string[]>();
  const seen = new Set<string | undefined>();
  for (const d of all) {
    if (seen.has(d.id)) continue;
    seen.add(d.id);
    const key = d.envelope?.session_key as string;
    out.set(key, [...(out.get(key) ?? []), text(d)]);
  }
  return out;
};

test('per-session order is kept while sessions run in parallel, never beyond agent.concurrency', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let inFlight = 0;
  let most = 0;
  agent.setScript(async (d) => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2 + (d.index % 5)));
    inFlight -= 1;
    return {};
  });
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { concurrency: 3 }) });
  const chats = ['S1', 'S2', 'S3', 'S4', 'S5'];
  for (let i = 0; i < 8; i++)
    for (const chat of chats) h.inbox.routes.inbound(inbound({ text: `${chat}-${i}`, chat }));
  await agent.waitFor(40, 10_000);
  for (const [key, texts] of bySession(agent.deliveries)) {
    const chat = key.split(':').pop();
    t.deepEqual(
      texts,
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${chat}-${i}`),
      key,
    );
  }
  t.true(most <= 3, `at most 3 in flight (saw ${most})`);
  t.true(most >= 2, 'sessions proceeded in parallel');
});

test('an interrupt is delivered during the turn in flight and ahead of queued messages', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(async (d) => {
    // the first message's turn only ends once the interrupt has arrived
    if (text(d) === 'm1') await agent.waitUntil((all) => all.some((x) => text(x) === 'INT'));
    return {};
  });
  const h = await startInbox(t, host(), { config: pushTo(agent.url) });
  for (const m of ['m1', 'm2', 'm3']) h.inbox.routes.inbound(inbound({ text: m, chat: 'I1' }));
  await agent.waitFor(1);
  await until(() => rows(h).length === 3);
  h.inbox.routes.interrupt_inbound({
    type: 'interrupt_inbound',
    session_key: 'agent:main:telegram:dm:I1',
    chat_id: 'I1',
  });
  await agent.waitFor(4);
  t.deepEqual(agent.deliveries.map(text), ['m1', 'INT', 'm2', 'm3']);
  t.deepEqual(agent.deliveries[1]?.envelope?.interrupt, { chat_id: 'I1', reason: null });
});

test('an interrupt reaches a turn in flight when that turn holds the last slot of agent.concurrency', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  // each message's turn waits (up to 10 s) for its session's interrupt, as a serverless agent
  // answering with the turn's actions in the response body would
  const interrupted = new Map<string, boolean>();
  agent.setScript(async (d) => {
    const key = String(d.envelope?.session_key);
    if (d.envelope?.type === 'message' && !interrupted.has(key)) {
      const seen = (all: readonly RecordedDelivery[]) =>
        all.some((x) => x.envelope?.type === 'interrupt' && x.envelope?.session_key === key);
      interrupted.set(
        key,
        await agent.waitUntil(seen, 10_000).then(
          () => true,
          () => false,
        ),
      );
    }
    return {};
  });
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { concurrency: 2, timeoutMs: 30_000 }),
  });
  // two sessions fill both slots with a turn each
  for (const chat of ['J1', 'J2']) h.inbox.routes.inbound(inbound({ text: `${chat}-m1`, chat }));
  h.inbox.routes.inbound(inbound({ text: 'J1-m2', chat: 'J1' }));
  await agent.waitFor(2);
  for (const chat of ['J1', 'J2']) {
    h.inbox.routes.interrupt_inbound({
      type: 'interrupt_inbound',
      session_key: `agent:main:telegram:dm:${chat}`,
      chat_id: chat,
    });
  }
  await agent.waitFor(5, 15_000);
  t.deepEqual(Object.fromEntries(interrupted), {
    'agent:main:telegram:dm:J1': true,
    'agent:main:telegram:dm:J2': true,
  });
  const j1 = bySession(agent.deliveries).get('agent:main:telegram:dm:J1');
  t.deepEqual(j1, ['J1-m1', 'INT', 'J1-m2']);
  await until(() => rows(h).every((r) => r.state === 'delivered'));
});

test('a rejection the store cannot save holds its session: the delivery is tried again, the next one waits', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let rejecting = true;
  agent.setScript((d) => (text(d) === 'X' && rejecting ? { status: 400 } : {}));
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { retryBaseMs: 20, retryMaxMs: 50 }),
  });
  // a real SQLite failure on the rejection count (a full disk, a lock held past busy_timeout)
  h.inbox.store.db.exec(`CREATE TRIGGER no_reject BEFORE UPDATE OF rejections ON inbox_events
    BEGIN SELECT RAISE(ABORT, 'injected: the store refuses'); END`);
  for (const m of ['X', 'Y']) h.inbox.routes.inbound(inbound({ text: m, chat: 'R1' }));
  await until(() => h.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length > 0);
  h.inbox.store.db.exec('DROP TRIGGER no_reject');
  rejecting = false;
  await until(() => rows(h).length === 2 && rows(h).every((r) => r.state === 'delivered'));
  const texts = agent.deliveries.map(text);
  t.true(texts.lastIndexOf('X') < texts.indexOf('Y'), texts.join(' '));
  t.is(texts.filter((x) => x === 'Y').length, 1);
});

test('a slow session does not stall another', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(async (d) => {
    if (text(d) === 'slow')
      await agent.waitUntil(
        (all) => all.filter((x) => x.envelope?.session_key?.endsWith(':F1')).length === 5,
      );
    return {};
  });
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { concurrency: 2 }) });
  h.inbox.routes.inbound(inbound({ text: 'slow', chat: 'L1' }));
  h.inbox.routes.inbound(inbound({ text: 'after slow', chat: 'L1' }));
  for (let i = 0; i < 5; i++) h.inbox.routes.inbound(inbound({ text: `fast ${i}`, chat: 'F1' }));
  await agent.waitFor(7, 5_000);
  t.deepEqual(bySession(agent.deliveries).get('agent:main:telegram:dm:L1'), ['slow', 'after slow']);
});

test('a session backing off a failure gives its slot to others', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let down = true;
  agent.setScript((d) => (down && d.envelope?.session_key?.endsWith(':D1') ? { status: 503 } : {}));
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { concurrency: 1, retryBaseMs: 50, retryMaxMs: 50 }),
  });
  h.inbox.routes.inbound(inbound({ text: 'down', chat: 'D1' }));
  for (let i = 0; i < 3; i++) h.inbox.routes.inbound(inbound({ text: `up ${i}`, chat: 'U1' }));
  await agent.waitUntil((all) => all.filter((d) => text(d).startsWith('up')).length === 3);
  down = false;
  await until(() => rows(h).every((r) => r.state === 'delivered'));
  t.is(rows(h).length, 4);
});

test('agent down for a while, then up: everything arrives, in per-session order', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  let down = true;
  agent.setScript(() => (down ? { refuse: true } : {}));
  const h = await startInbox(t, host(), { config: pushTo(agent.url, { retryBaseMs: 10, retryMaxMs: 40 }) });
  for (let i = 0; i < 4; i++)
    for (const chat of ['A', 'B']) h.inbox.routes.inbound(inbound({ text: `${chat}${i}`, chat }));
  await agent.waitFor(6);
  t.true(h.inbox.stats().pending > 0);
  down = false;
  await until(() => rows(h).length === 8 && rows(h).every((r) => r.state === 'delivered'));
  const delivered = new Map<string, string[]>();
  // the successful attempt of each delivery is its last one
  const last = new Map<string, RecordedDelivery>();
  for (const d of agent.deliveries) last.set(d.id ?? '', d);
  for (const d of [...last.values()].sort((a, b) => a.index - b.index)) {
    const key = d.envelope?.session_key as string;
    delivered.set(key, [...(delivered.get(key) ?? []), text(d)]);
  }
  t.deepEqual(delivered.get('agent:main:telegram:dm:A'), ['A0', 'A1', 'A2', 'A3']);
  t.deepEqual(delivered.get('agent:main:telegram:dm:B'), ['B0', 'B1', 'B2', 'B3']);
  t.true((await h.metrics.value('relay_delivery_retries_total')) > 0);
});

test('a restart redelivers what was not delivered (same id, next attempt), never what was', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript((d) => (text(d) === 'second' ? { status: 500 } : {}));
  const h = await startInbox(t, host(), { config: pushTo(agent.url) });
  h.inbox.routes.inbound(inbound({ text: 'first', chat: 'Z1' }));
  h.inbox.routes.inbound(inbound({ text: 'second', chat: 'Z1' }));
  await agent.waitUntil((all) => all.filter((d) => text(d) === 'second').length === 2);
  const again = await h.reopen({ start: false });
  const before = agent.deliveries.length;
  agent.setScript(() => ({}));
  again.inbox.start();
  await until(() => rows(again).every((r) => r.state === 'delivered'));
  const after = agent.deliveries.slice(before);
  t.deepEqual(after.map(text), ['second']);
  t.is(after[0]?.id, agent.deliveries.find((d) => text(d) === 'second')?.id);
  t.true((after[0]?.envelope?.attempt as number) >= 3);
  t.is(agent.deliveries.filter((d) => text(d) === 'first').length, 1);
});

test('rows committed but never sent before a restart are delivered after it', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  const h = await startInbox(t, host(), { config: pushTo(agent.url), start: false });
  h.inbox.routes.inbound(inbound({ text: 'kept', chat: 'K1', bufferId: 'k-1' }));
  h.inbox.submitInterrupt('agent:main:telegram:dm:K1', 'stop');
  await until(() => rows(h).length === 2);
  const again = await h.reopen();
  t.is(await again.metrics.value('relay_inbox_depth'), 2);
  await agent.waitFor(2);
  t.deepEqual(agent.deliveries.map(text), ['INT', 'kept']);
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.attempt),
    [1, 1],
  );
});
