/**
 * Push response actions are durable and bounded, on a real inbox (SQLite file), a real loopback
 * push agent and the real plugin pool: they are stored with the delivered mark, run in order per
 * session from the store, kept across a graceful close when they could not go out, never run
 * again once started (ambiguous), and bounded by agent.maxResponseActions (while the outbox is
 * full, no delivery is sent: the agent is asked nothing whose answer would not fit).
 */
import test from 'ava';
import { ActionDeferred, type ExecuteAction } from '../../../sidecar/delivery/action-runner.js';
import { startAgent } from '../../helpers/loopback-agent.js';
import { inbound, pushTo, rows, sharedHost, startInbox, TOKEN, until } from '../inbox/inbox-harness.js';

const host = sharedHost();

/** The actions the agent answers per message text (`<chat>:<n>`). */
function scriptOf(actionsByText: Record<string, readonly string[]>) {
  return (d: { envelope?: { event?: { text?: string } } }) => {
    const text = d.envelope?.event?.text ?? '';
    return { actions: (actionsByText[text] ?? []).map((n) => ({ op: 'send', n })) };
  };
}

/** Rows of the outbox: n of each action and whether it is marked started. */
function outbox(h: Awaited<ReturnType<typeof startInbox>>): { n: string; started: boolean }[] {
  return (
    h.inbox.store.db.prepare('SELECT action, started_at FROM inbox_outbox ORDER BY seq').all() as {
      action: string;
      started_at: number | null;
    }[]
  ).map((r) => ({ n: (JSON.parse(r.action) as { n: string }).n, started: r.started_at !== null }));
}

test('actions that met no connection stay stored across a graceful close and run after it, in order per session, once', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(scriptOf({ 'A:1': ['a1', 'a2'], 'B:1': ['b1'], 'A:2': ['a3'] }));
  // life 1: the relay is down: every try answers "not connected" and waits, until the close drains
  const tried: string[] = [];
  const waiting: ExecuteAction = async (raw, attempt) => {
    tried.push((raw as { n: string }).n);
    await attempt.unsent();
    await new Promise((resolve) => attempt.signal.addEventListener('abort', resolve, { once: true }));
    throw new ActionDeferred('not connected, stopping');
  };
  const executed: string[] = [];
  let execute = waiting;
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url),
    executeAction: (raw, attempt) => execute(raw, attempt),
  });
  h.inbox.routes.inbound(inbound({ text: 'A:1', chat: 'A' }));
  h.inbox.routes.inbound(inbound({ text: 'B:1', chat: 'B' }));
  h.inbox.routes.inbound(inbound({ text: 'A:2', chat: 'A' }));
  await until(() => rows(h).every((r) => r.state === 'delivered') && rows(h).length === 3);
  await until(() => tried.length === 2);
  t.deepEqual(tried.sort(), ['a1', 'b1'], 'one action per session at a time');
  t.is(await h.metrics.value('relay_outbox_depth'), 4);

  execute = async (raw) => {
    executed.push((raw as { n: string }).n);
    return { success: true };
  };
  const next = await h.reopen();
  await until(() => executed.length === 4);
  await until(() => outbox(next).length === 0);
  t.deepEqual(
    executed.filter((n) => n.startsWith('a')),
    ['a1', 'a2', 'a3'],
    'session A in order across the restart',
  );
  t.deepEqual(
    executed.filter((n) => n.startsWith('b')),
    ['b1'],
  );
  t.is(agent.deliveries.length, 3, 'no delivery was made again');
  t.is(next.sink.withCode('CORE_ERR_DELIVERY_ACTION_AMBIGUOUS').length, 0);
  t.is(await next.metrics.value('relay_outbox_depth'), 0);
});

test('an action started and never settled is reported ambiguous after a restart, never run again; the next runs', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(scriptOf({ 'S:1': ['s1', 's2'] }));
  const executed: string[] = [];
  // life 1: the first action's frame is out and its answer never comes
  let execute: ExecuteAction = (raw) => {
    executed.push((raw as { n: string }).n);
    return new Promise(() => {});
  };
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url),
    executeAction: (raw, attempt) => execute(raw, attempt),
  });
  h.inbox.routes.inbound(inbound({ text: 'S:1', chat: 'S' }));
  await until(() => executed.length === 1);
  await until(() => outbox(h)[0]?.started === true);
  t.deepEqual(outbox(h), [
    { n: 's1', started: true },
    { n: 's2', started: false },
  ]);

  execute = async (raw) => {
    executed.push((raw as { n: string }).n);
    return { success: true };
  };
  const next = await h.reopen();
  await until(() => outbox(next).length === 0);
  t.deepEqual(executed, ['s1', 's2'], 's1 was not run again');
  const ambiguous = next.sink.withCode('CORE_ERR_DELIVERY_ACTION_AMBIGUOUS');
  t.is(ambiguous.length, 1);
  t.like(ambiguous[0], { index: 0, op: 'send', id: rows(next)[0]?.id });
  t.is(await next.metrics.value('relay_errors_total', { code: 'CORE_ERR_DELIVERY_ACTION_AMBIGUOUS' }), 1);
  t.is(agent.deliveries.length, 1);
});

test('a full outbox: the agent is asked nothing more until there is room, then each delivery goes once', async (t) => {
  const agent = await startAgent(t, { token: TOKEN });
  agent.setScript(scriptOf({ 'F:1': ['f1', 'f2'], 'G:1': ['g1'] }));
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const executed: string[] = [];
  const h = await startInbox(t, host(), {
    config: pushTo(agent.url, { maxResponseActions: 2, retryBaseMs: 20, retryMaxMs: 50 }),
    async executeAction(raw) {
      await gate;
      executed.push((raw as { n: string }).n);
      return { success: true };
    },
  });
  h.inbox.routes.inbound(inbound({ text: 'F:1', chat: 'F' }));
  await until(() => outbox(h).length === 2);
  h.inbox.routes.inbound(inbound({ text: 'G:1', chat: 'G' }));
  // the outbox holds two: G waits, unsent, instead of being asked and its answer refused
  const full = await h.sink.waitFor((l) => l.code === 'CORE_ERR_DELIVERY_OUTBOX_FULL');
  t.like(full, { sessionKey: rows(h).find((r) => r.envelope.event?.text === 'G:1')?.session_key });
  t.is(rows(h).find((r) => r.envelope.event?.text === 'G:1')?.state, 'pending');
  t.deepEqual(
    agent.deliveries.map((d) => d.envelope?.event?.text),
    ['F:1'],
    'G was not sent while the outbox was full',
  );
  t.is(await h.metrics.value('relay_outbox_depth'), 2);

  release();
  await until(() => rows(h).every((r) => r.state === 'delivered'));
  await until(() => executed.length === 3 && outbox(h).length === 0);
  t.deepEqual(executed.sort(), ['f1', 'f2', 'g1'], 'every action once');
  t.deepEqual(
    agent.deliveries.map((d) => [d.envelope?.event?.text, d.envelope?.attempt]),
    [
      ['F:1', 1],
      ['G:1', 1],
    ],
    'each delivery asked once',
  );
  t.is(h.sink.withCode('CORE_ERR_DELIVERY_OUTBOX_FULL').length, 1, 'said once');
  t.is(h.sink.withMsg('response actions outbox has room again').length, 1);
});
