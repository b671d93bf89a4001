/**
 * Prove it (issue 4): the connector replays the same bufferIds after a reconnect — dropped
 * before the acks could arrive, or after them (an ack the connector lost) — and across a
 * sidecar restart: each event is delivered to the agent exactly once, and every replay is acked.
 */
import test from 'ava';
import type { DevConnector } from '../../sidecar/dev-connector/index.js';
import { LoopbackAgent } from '../helpers/loopback-agent.js';
import { textOf } from './agent-tools.js';
import {
  ackCounts,
  ackOf,
  type Chat,
  discordMessage,
  type InProcess,
  slashCommand,
  startInProcess,
  startPushStack,
  until,
  WAIT,
} from './e2e-harness.js';

const A: Chat = { channel: 'c-1', user: 'u-a' };
const B: Chat = { channel: 'c-1', user: 'u-b' };

/** Requests the agent received per event text. */
function requestsByText(agent: LoopbackAgent): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of agent.deliveries) {
    const text = textOf(d) ?? '?';
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

/** Wait until every committed event is delivered: a duplicate would have reached the agent by then. */
const drained = (sc: InProcess) => until(() => sc.sidecar.inbox.stats().pending === 0, WAIT, 'inbox drained');

/** Wait for a reconnect after connection `previous` and its replay. */
async function reconnected(connector: DevConnector, previous: number): Promise<number> {
  return connector.waitForConnection(WAIT, previous);
}

test('dropped before the acks: the connector replays the same bufferIds, nothing is delivered twice', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const conn = await connector.waitForConnection(WAIT);
  const frames = [
    discordMessage(A, 'a1', 'm-a1'),
    slashCommand(B, '1300000000000000001', 'model', 'b1'),
    discordMessage(A, 'a2', 'm-a2'),
    slashCommand(B, '1300000000000000002', 'model', 'b2'),
  ];
  const ids = frames.map((f) => connector.sendBuffered(f));
  // the close frame follows the data on the same stream: the sidecar reads the frames, then the
  // close, and commits them while it has no socket to ack on
  connector.drop();
  await reconnected(connector, conn);
  for (const id of ids) await connector.waitFor(ackOf(id), WAIT);
  await agent.waitFor(4, WAIT);
  await drained(sc);
  t.deepEqual(connector.pendingBuffered(), []);
  const replayed = ids.filter(
    (id) => connector.frames.filter((f) => f.dir === 'out' && f.frame.bufferId === id).length > 1,
  );
  t.true(replayed.length > 0, 'the connector replayed un-acked bufferIds after the reconnect');
  // on a busy machine the first copies may still be in the plugins when the replays arrive: the
  // replays then settle (as duplicates) after everything else, so wait for them before counting
  const duplicates = () => sc.sidecar.metrics.value('relay_duplicates_total');
  await until(async () => (await duplicates()) >= replayed.length, WAIT, 'replays settled');
  t.deepEqual([...requestsByText(agent)].sort(), [
    ['/model b1', 1],
    ['/model b2', 1],
    ['a1', 1],
    ['a2', 1],
  ]);
  t.is(await duplicates(), replayed.length);
});

test('acked, then replayed again after a reconnect (the connector lost the ack): acked again, not delivered again', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const conn = await connector.waitForConnection(WAIT);
  const frames = [discordMessage(A, 'x1', 'm-x1'), slashCommand(B, '1300000000000000010', 'skill', 'x2')];
  const ids = frames.map((f) => connector.sendBuffered(f));
  for (const id of ids) await connector.waitFor(ackOf(id), WAIT);
  await agent.waitFor(2, WAIT);
  connector.drop();
  const next = await reconnected(connector, conn);
  // replay exactly what was sent, same bufferIds, on the new connection
  frames.forEach((frame, i) => {
    connector.send({ ...frame, bufferId: ids[i] }, { conn: next });
  });
  await until(() => ids.every((id) => ackCounts(connector).get(id) === 2), WAIT, 'replays acked');
  await drained(sc);
  t.deepEqual([...requestsByText(agent).values()], [1, 1]);
  t.is(await sc.sidecar.metrics.value('relay_duplicates_total'), 2);
});

test('the same bufferId twice in a row, before the first is committed: one delivery', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const frame = { ...slashCommand(A, '1300000000000000020', 'new', 'race'), bufferId: 'conn-buf-race' };
  connector.send(frame);
  connector.send(frame);
  connector.send({ ...discordMessage(B, 'race-2', 'm-race-2'), bufferId: 'conn-buf-race-2' });
  connector.send({ ...discordMessage(B, 'race-2', 'm-race-2'), bufferId: 'conn-buf-race-2' });
  await until(
    () =>
      ackCounts(connector).get('conn-buf-race') === 2 && ackCounts(connector).get('conn-buf-race-2') === 2,
    WAIT,
    'both copies acked',
  );
  await drained(sc);
  t.deepEqual([...requestsByText(agent)].sort(), [
    ['/new race', 1],
    ['race-2', 1],
  ]);
});

test('dedupe survives a sidecar restart: a replayed bufferId and a repeated live message are not delivered again', async (t) => {
  const { secret, token, connector, agent, sc } = await startPushStack(t);
  const buffered = slashCommand(A, '1300000000000000030', 'model', 'kept');
  const bufferId = connector.sendBuffered(buffered);
  const live = discordMessage(B, 'live-once', 'm-live-once');
  connector.send(live);
  await connector.waitFor(ackOf(bufferId), WAIT);
  await agent.waitFor(2, WAIT);
  await sc.sidecar.stop();

  const again = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    dataDir: sc.dataDir,
    sink: sc.sink,
  });
  connector.send({ ...buffered, bufferId });
  // a live frame carries no bufferId: it dedupes on <platform>:<chat_id>:<message_id>
  connector.send(live);
  connector.send(discordMessage(B, 'after-restart', 'm-after'));
  await until(() => ackCounts(connector).get(bufferId) === 2, WAIT, 'the replay acked');
  await agent.waitUntil((all) => all.some((d) => textOf(d) === 'after-restart'), WAIT);
  await drained(again);
  t.deepEqual([...requestsByText(agent)].sort(), [
    ['/model kept', 1],
    ['after-restart', 1],
    ['live-once', 1],
  ]);
  t.is(await again.sidecar.metrics.value('relay_duplicates_total'), 2);
});

/** `frame` (a discordMessage) as an edit of its message: same message_id, new text. */
function editOf(frame: Record<string, unknown>, text: string): Record<string, unknown> {
  const event = frame.event as { source: Record<string, unknown> };
  return { ...frame, event: { ...event, text, source: { ...event.source, message_is_edit: true } } };
}

test('edits of a message are events of their own: each distinct edit delivered once, a repeated edit deduped', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const original = discordMessage(A, 'original', 'm-edited');
  connector.send(original);
  await agent.waitFor(1, WAIT);
  connector.send(editOf(original, 'edited once'));
  // the platform (or the connector) repeats the same edit: a duplicate
  connector.send(editOf(original, 'edited once'));
  connector.send(editOf(original, 'edited twice'));
  connector.send(discordMessage(A, 'after', 'm-after-edits'));
  await agent.waitUntil((all) => all.some((d) => textOf(d) === 'after'), WAIT);
  await drained(sc);
  t.deepEqual([...requestsByText(agent)].sort(), [
    ['after', 1],
    ['edited once', 1],
    ['edited twice', 1],
    ['original', 1],
  ]);
  t.is(await sc.sidecar.metrics.value('relay_duplicates_total'), 1);
});
