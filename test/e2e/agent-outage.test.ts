/**
 * Prove it (issue 4): the agent is down for a while — first nothing listens (connection
 * refused), then it answers 503 — then it is up: every event arrives, acknowledged once, in
 * per-session order, with several sessions interleaved and buffered and live frames mixed, and
 * the outage is logged once when found and once when over.
 */
import test from 'ava';
import { startAgent } from '../helpers/loopback-agent.js';
import { AckBook, AgentGate } from './agent-tools.js';
import {
  ackOf,
  type Chat,
  discordMessage,
  secretOf,
  sessionOf,
  slashCommand,
  startConnector,
  startInProcess,
  until,
  WAIT,
} from './e2e-harness.js';

const CHATS: readonly Chat[] = [
  { channel: 'c-1', user: 'u-1' },
  { channel: 'c-1', user: 'u-2' },
  { channel: 'c-2', user: 'u-3' },
];
const PER_SESSION = 5;

test('agent refused, then 503, then up: everything arrives in per-session order', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const gate = await AgentGate.start(agent, false);
  t.teardown(() => gate.down());
  const book = new AckBook();
  let unavailable = 6;
  agent.setScript(book.script(() => (unavailable-- > 0 ? { status: 503 } : { status: 200 })));
  const sc = await startInProcess(t, { connector, secret, token, agentUrl: gate.url });

  // round-robin over the sessions; in each, alternate live messages and buffered slash commands
  const expected = new Map<string, string[]>();
  const bufferIds: string[] = [];
  for (let i = 1; i <= PER_SESSION; i++) {
    CHATS.forEach((chat, s) => {
      const key = sessionOf(chat);
      if (i % 2 === 1) {
        const text = `s${s}-m${i}`;
        connector.send(discordMessage(chat, text, `m-${s}-${i}`));
        expected.set(key, [...(expected.get(key) ?? []), text]);
      } else {
        const value = `s${s}-c${i}`;
        bufferIds.push(connector.sendBuffered(slashCommand(chat, `13000000000000${s}${i}00`, 'run', value)));
        expected.set(key, [...(expected.get(key) ?? []), `/run ${value}`]);
      }
    });
  }
  // refused: every session's head failed at least once (a session waits, the others retry too)
  await until(
    () =>
      new Set(
        sc.sink
          .withCode('CORE_ERR_DELIVERY_FAILED')
          .filter((l) => l.reason === 'ECONNREFUSED')
          .map((l) => l.sessionKey),
      ).size === CHATS.length,
    WAIT,
    'refused deliveries in every session',
  );
  for (const id of bufferIds) await connector.waitFor(ackOf(id), WAIT);
  t.is(agent.deliveries.length, 0);
  t.is(sc.sidecar.inbox.stats().pending, CHATS.length * PER_SESSION, 'all committed, none delivered');

  await gate.up();
  const total = CHATS.length * PER_SESSION;
  await until(() => book.ackedAt.size === total, WAIT, 'every event acknowledged');
  // six 503s, each retried; every other request answered 2xx at once
  t.is(agent.deliveries.length, total + 6);
  t.true(sc.sink.withCode('CORE_ERR_DELIVERY_FAILED').some((l) => l.status === 503));
  for (const chat of CHATS) {
    const key = sessionOf(chat);
    t.deepEqual(book.ackedTextsOf(agent.deliveries, key), expected.get(key), key);
  }
  t.deepEqual(book.redeliveredAfterAck(agent.deliveries), []);
  // one outage, said once each way: not a warning per session (refused, then 503, one outage)
  const down = sc.sink.withCode('CORE_ERR_DELIVERY_AGENT_UNREACHABLE');
  t.is(down.length, 1);
  t.like(down[0], { reason: 'ECONNREFUSED' });
  t.is(sc.sink.withMsg('agent reachable again').length, 1);
  await until(() => sc.sidecar.inbox.stats().pending === 0, WAIT, 'inbox drained');
  t.deepEqual(connector.pendingBuffered(), []);
  t.is(sc.sidecar.inbox.stats().dead, 0, 'nothing was dead-lettered');
});
