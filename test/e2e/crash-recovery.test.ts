/**
 * Prove it (issue 4): the sidecar CLI process is killed with SIGKILL after the commit but before
 * delivery (agent down), and again after delivery but before the agent's 2xx (agent hangs);
 * each restart on the same data dir delivers every event, in per-session order, and the agent
 * never sees a delivery id again once it answered 2xx. Buffered and live frames both.
 */
import { join } from 'node:path';
import test from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import type { DevConnector } from '../../sidecar/dev-connector/index.js';
import { LoopbackAgent, type RecordedDelivery, startAgent } from '../helpers/loopback-agent.js';
import { type SidecarProcess, startSidecarProcess } from '../helpers/sidecar-process.js';
import { AckBook, AgentGate, textOf } from './agent-tools.js';
import {
  ackOf,
  CHILD_TUNABLES,
  type Chat,
  discordMessage,
  relayEnv,
  secretOf,
  sessionOf,
  startConnector,
  tempDir,
  until,
  WAIT,
} from './e2e-harness.js';

const A: Chat = { channel: 'c-100', user: 'u-a' };
const B: Chat = { channel: 'c-100', user: 'u-b' };
const C: Chat = { channel: 'c-200', user: 'u-c' };
const CHATS: Record<string, Chat> = { A, B, C };

/** Tunables of the child (config file): fast reconnects and retries, a long agent timeout so a hang stays a hang. */
const TUNABLES = CHILD_TUNABLES;

/** The message `A1` of chat A, live or buffered; message ids are unique per text. */
function send(connector: DevConnector, text: string, buffered: boolean): string | undefined {
  const chat = CHATS[text[0] as string] as Chat;
  const frame = discordMessage(chat, text, `m-${text}`);
  if (buffered) return connector.sendBuffered(frame);
  connector.send(frame);
  return undefined;
}

async function pendingOf(proc: SidecarProcess, token: string): Promise<number> {
  const res = await proc.api('/v1/status', { token });
  return ((await res.json()) as { inbox: { pending: number } }).inbox.pending;
}

/** True when every pending row whose text is in `texts` has at least one attempt saved in the store. */
function attemptsSaved(dataDir: string, texts: ReadonlySet<string>): boolean {
  const db = new BetterSqlite3(join(dataDir, 'sidecar.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT e.attempt, v.envelope FROM inbox_events e JOIN inbox_envelopes v ON v.seq = e.seq
           WHERE e.state = 'pending'`,
      )
      .all() as { attempt: number; envelope: string }[];
    const counted = rows.filter((r) => {
      const text = (JSON.parse(r.envelope) as { event?: { text?: string } }).event?.text ?? '';
      return texts.has(text) && r.attempt >= 1;
    });
    return counted.length === texts.size;
  } finally {
    db.close();
  }
}

const hasRequestFor = (agent: LoopbackAgent, text: string) =>
  agent.deliveries.some((d) => textOf(d) === text);

test('SIGKILL before delivery and before the 2xx: after restarts every event arrives once acknowledged, in order', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await startConnector(t, secret);
  const book = new AckBook();
  const agent = await startAgent(t, { token });
  const gate = await AgentGate.start(agent, false);
  t.teardown(() => gate.down());
  const start = () =>
    startSidecarProcess(t, {
      env: { ...relayEnv(connector, secret, { url: gate.url, token, dataDir }), LOG_LEVEL: 'debug' },
      config: TUNABLES,
      configDir: dataDir,
    });

  // ── life 1: the agent is down. Everything is committed (buffered frames acked), nothing delivered.
  const first = await start();
  // interleaved sessions, alternating buffered and live frames; per-session order is A1 < A2 …
  const buffered1 = [
    send(connector, 'A1', true),
    send(connector, 'B1', false),
    send(connector, 'C1', true),
    send(connector, 'A2', false),
    send(connector, 'B2', true),
    send(connector, 'C2', false),
  ].filter((id) => id !== undefined);
  for (const id of buffered1) await connector.waitFor(ackOf(id as string), WAIT);
  await until(async () => (await pendingOf(first, token)) === 6, WAIT, 'six events committed');
  await first.waitForLine((l) => l.code === 'CORE_ERR_DELIVERY_FAILED' && l.reason === 'ECONNREFUSED', WAIT);
  t.deepEqual(connector.pendingBuffered(), [], 'the connector saw every inbound_ack');
  t.like(await first.kill('SIGKILL'), { signal: 'SIGKILL' });
  t.is(agent.deliveries.length, 0, 'nothing reached the agent in life 1');

  // buffered while the sidecar is dead: the connector replays it on the next connection
  const c3 = send(connector, 'C3', true) as string;

  // ── life 2: the agent is up; it acknowledges some and hangs on A2, B2 and C3.
  const hang = new Set(['A2', 'B2', 'C3']);
  agent.setScript(book.script((d) => (hang.has(textOf(d) ?? '') ? { hang: true } : { status: 200 })));
  await gate.up();
  const second = await start();
  send(connector, 'A3', false);
  const b3 = send(connector, 'B3', true) as string;
  await connector.waitFor(ackOf(c3), WAIT);
  await connector.waitFor(ackOf(b3), WAIT);
  await agent.waitUntil(() => [...hang].every((text) => hasRequestFor(agent, text)), WAIT);
  // A1 B1 C1 C2 acknowledged; A2 B2 C3 hanging; A3 B3 queued behind them: 5 not delivered
  await until(async () => (await pendingOf(second, token)) === 5, WAIT, 'five events pending');
  t.deepEqual(book.ackedTexts(agent.deliveries).sort(), ['A1', 'B1', 'C1', 'C2']);
  t.false(hasRequestFor(agent, 'A3'), 'A3 waits behind the hanging A2');
  t.false(hasRequestFor(agent, 'B3'), 'B3 waits behind the hanging B2');
  const life2 = agent.deliveries.length;
  // an attempt's count is saved with the next group commit, not before the send: a kill inside
  // that window may leave it uncounted (docs/decisions.md), so wait until the store has them all
  await until(() => attemptsSaved(dataDir, hang), WAIT, 'the hanging attempts counted');
  t.like(await second.kill('SIGKILL'), { signal: 'SIGKILL' });

  // ── life 3: the agent acknowledges everything; more frames arrive, buffered and live.
  agent.setScript(book.script(() => ({ status: 200 })));
  const third = await start();
  const a4 = send(connector, 'A4', true) as string;
  send(connector, 'B4', false);
  const all = ['A1', 'A2', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4', 'C1', 'C2', 'C3'];
  // the book is written after a request is recorded: poll it rather than wait on requests
  await until(() => book.ackedTexts(agent.deliveries).length === all.length, WAIT, 'all acknowledged');
  await connector.waitFor(ackOf(a4), WAIT);

  const deliveries = agent.deliveries;
  t.deepEqual(book.redeliveredAfterAck(deliveries), [], 'no delivery id came back after its 2xx');
  t.deepEqual(book.ackedTexts(deliveries).sort(), all, 'every event reached the agent and was acknowledged');
  for (const [name, chat] of Object.entries(CHATS)) {
    const expected = all.filter((text) => text.startsWith(name));
    t.deepEqual(book.ackedTextsOf(deliveries, sessionOf(chat)), expected, `session ${name} in order`);
  }
  // one delivery id per event: nothing was committed twice (replays deduped, live frames once)
  const idsByText = new Map<string, Set<string>>();
  for (const d of deliveries) {
    const text = textOf(d) as string;
    idsByText.set(text, (idsByText.get(text) ?? new Set()).add(d.id as string));
  }
  for (const text of all) t.is(idsByText.get(text)?.size, 1, `${text} has one delivery id`);
  // the hanging ones were re-sent after the restart under the same id, with a higher attempt
  for (const text of hang) {
    const seen = deliveries.filter((d) => textOf(d) === text);
    const before = seen.filter((d) => d.index < life2);
    const after = seen.filter((d) => d.index >= life2);
    t.true(before.length >= 1 && after.length >= 1, `${text} requested in life 2 and life 3`);
    t.true(
      (after[0] as RecordedDelivery).envelope?.attempt > (before[0] as RecordedDelivery).envelope?.attempt,
      `${text}: attempt grows across the restart`,
    );
  }
  t.true(
    deliveries.every((d) => d.signatureValid),
    'every request signed with the API token',
  );
  t.deepEqual(connector.pendingBuffered(), []);
  await until(async () => (await pendingOf(third, token)) === 0, WAIT, 'inbox drained');

  // SIGTERM is a graceful drain: exit code 0
  t.deepEqual(await third.kill('SIGTERM'), { code: 0, signal: null });
});
