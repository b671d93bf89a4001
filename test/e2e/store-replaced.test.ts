/**
 * A store file replaced (a backup put back with `mv`) or deleted under a running sidecar (in
 * process: real socket, pool, SQLite file and HTTP). The process still writes the file it opened,
 * which no one opens again: from the upkeep that notices on, it must ack nothing more (the
 * connector would forget frames that the next start never sees), like a store that refuses writes.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import test from 'ava';
import { databasePath } from '../../core/store/database.js';
import { textOf } from './agent-tools.js';
import {
  ackOf,
  type Chat,
  discordMessage,
  type InProcess,
  startInProcess,
  startPushStack,
  until,
  WAIT,
} from './e2e-harness.js';

const A: Chat = { channel: 'c-200', user: 'u-a' };

/** The first word of each delivery's text, in the order the agent got them. */
const names = (deliveries: readonly Parameters<typeof textOf>[0][]) =>
  deliveries.map((d) => textOf(d)?.split(' ')[0]);

const HELD = 'the store refuses commits; frames held unacked and retried';

/** Wait for the upkeep (every 5 s) to notice the store file changed. */
const replacementNoticed = (sc: InProcess) =>
  until(() => sc.sink.withCode('CORE_ERR_STORE_REPLACED').length > 0, WAIT, 'the replacement noticed');

test('a store file replaced while running: frames are held unacked (/readyz 503, reading paused at inbox.maxIngestPending) and a buffered one is delivered after a restart', async (t) => {
  const { secret, token, connector, agent, sc } = await startPushStack(t, {
    config: { inbox: { maxIngestPending: 2 } },
  });
  connector.send(discordMessage(A, 'warm', 'm-warm'));
  await until(() => agent.deliveries.length === 1, WAIT, 'the first delivery');

  // a backup put back with mv: a new file at the path, the sidecar still on the one it opened
  const file = databasePath(sc.dataDir);
  copyFileSync(file, `${file}.backup`);
  renameSync(`${file}.backup`, file);
  await replacementNoticed(sc);
  // not ready from the moment it is noticed, before any frame is refused
  const readyz = await sc.api('/readyz');
  t.is(readyz.status, 503);
  t.deepEqual(await readyz.json(), { state: 'ready', store: 'replaced' });

  const buffered = connector.sendBuffered(discordMessage(A, 'buf1', 'm-buf1'));
  connector.send(discordMessage(A, 'live1', 'm-live1'));
  await until(
    () => sc.sink.withMsg(HELD).length > 0 || connector.frames.some(ackOf(buffered)),
    WAIT,
    'the buffered frame held or acked',
  );
  t.false(connector.frames.some(ackOf(buffered)), 'not acked into a file no one will open again');
  t.like(sc.sink.withMsg(HELD)[0], { code: 'CORE_ERR_INBOX_COMMIT_FAILED' });
  // held frames count toward inbox.maxIngestPending: memory stays bounded
  await until(() => sc.sink.withMsg('ingest backpressure on').length === 1, WAIT, 'reading paused');
  t.deepEqual(names(agent.deliveries), ['warm']);

  await sc.sidecar.stop();
  t.false(connector.frames.some(ackOf(buffered)));
  t.like(sc.sink.withMsg('closing with frames the store never took')[0], { live: 1, buffered: 1 });

  // the next start opens the file now at the path; the connector redelivers the unacked frame
  const again = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    dataDir: sc.dataDir,
  });
  await connector.waitFor(ackOf(buffered), WAIT);
  await until(() => names(agent.deliveries).includes('buf1'), WAIT, 'the buffered frame delivered');
  t.is((await again.api('/readyz')).status, 200);
});

test('a store file deleted while running: a buffered frame is not acked, an interrupt is held, /readyz answers 503', async (t) => {
  const { connector, sc } = await startPushStack(t);
  rmSync(databasePath(sc.dataDir));
  await replacementNoticed(sc);
  const buffered = connector.sendBuffered(discordMessage(A, 'buf1', 'm-buf1'));
  await until(
    () => sc.sink.withMsg(HELD).length > 0 || connector.frames.some(ackOf(buffered)),
    WAIT,
    'the buffered frame held or acked',
  );
  t.false(connector.frames.some(ackOf(buffered)));
  t.deepEqual(await (await sc.api('/readyz')).json(), { state: 'ready', store: 'replaced' });
  // interrupts are refused too: held in their own queue, not committed into the lost file
  connector.send({
    type: 'interrupt_inbound',
    session_key: 'agent:main:discord:group:c-200:u-a',
    chat_id: A.channel,
  });
  await until(
    () => sc.sink.withMsg('the store refuses commits; interrupts held and retried').length > 0,
    WAIT,
    'the interrupt held',
  );
});
