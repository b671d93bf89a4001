/**
 * A full disk under a running sidecar (in process: real socket, pool, SQLite file and HTTP): the
 * inbox's connection is capped with `PRAGMA max_page_count` at the pages the file already has,
 * its free pages filled, so every commit that needs a new page fails with SQLITE_FULL, as on a
 * full filesystem. Frames are large enough (overflow pages) to need one.
 */
import test from 'ava';
import type { Database } from '../../core/store/database.js';
import { textOf } from './agent-tools.js';
import {
  ackOf,
  type Chat,
  discordMessage,
  startInProcess,
  startPushStack,
  until,
  WAIT,
} from './e2e-harness.js';

const A: Chat = { channel: 'c-100', user: 'u-a' };

/** A message of chat A too large for the slack in the store's pages (text starts with `name `). */
const big = (name: string) => discordMessage(A, `${name} ${'x'.repeat(40_000)}`, `m-${name}`);

/** The first word of each delivery's text, in the order the agent got them. */
const names = (deliveries: readonly Parameters<typeof textOf>[0][]) =>
  deliveries.map((d) => textOf(d)?.split(' ')[0]);

/** Make `db` (one connection) see a full disk: no page beyond those the file has, none free. */
function fillDisk(db: Database): () => void {
  // the filler's table first: its root page came from the file's free pages, which a schema
  // change may have used up (inbox migration 4 took the two a dropped table had left)
  db.exec('CREATE TABLE disk_filler (x BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const insert = db.prepare('INSERT INTO disk_filler VALUES (zeroblob(1000))');
  try {
    for (;;) insert.run();
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
  }
  return () => db.pragma('max_page_count = 1073741823');
}

test('a full disk: frames that cannot be committed are held (/readyz 503, actions still go out) and committed once space returns, in order, without a reconnect', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const db = (sc.sidecar.inbox as unknown as { store: { db: Database } }).store.db;
  connector.send(discordMessage(A, 'warm', 'm-warm'));
  await until(() => agent.deliveries.length === 1, WAIT, 'the first delivery');

  const spaceReturns = fillDisk(db);
  connector.send(big('live1'));
  const buffered = connector.sendBuffered(big('buf1'));
  connector.send(big('live2'));
  await until(() => sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length > 0, WAIT, 'the failure logged');
  const readyz = await sc.api('/readyz');
  t.is(readyz.status, 503);
  t.deepEqual(await readyz.json(), { state: 'ready', store: 'failing' });
  t.false(connector.frames.some(ackOf(buffered)), 'not acked before it is committed');
  t.deepEqual(names(agent.deliveries), ['warm']);
  // the socket is read on below inbox.maxIngestPending: the agent's actions still get their result
  const action = await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: A.channel, content: 'while the disk is full' }),
  });
  t.is(action.status, 200);
  t.like(await action.json(), { result: { success: true } });

  spaceReturns();
  await until(() => agent.deliveries.length === 4, WAIT, 'the held frames delivered');
  t.deepEqual(names(agent.deliveries), ['warm', 'live1', 'buf1', 'live2']);
  await connector.waitFor(ackOf(buffered), WAIT);
  t.is(connector.totalConnections(), 1, 'no reconnect was needed');
  t.is((await sc.api('/readyz')).status, 200);
  t.like(sc.sink.withMsg('the store takes commits again; held frames committed')[0], { level: 30 });
  // one failure, one line and one count, however many retries it took
  t.is(sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length, 1);
  const metrics = await (await sc.api('/metrics')).text();
  t.regex(metrics, /^relay_errors_total\{code="CORE_ERR_INBOX_COMMIT_FAILED"\} 1$/m);
});

test('a full disk at shutdown: held frames (reading paused at inbox.maxIngestPending) are reported, a buffered one stays unacked and is delivered after a restart', async (t) => {
  const {
    secret,
    token,
    connector,
    agent,
    sc: first,
  } = await startPushStack(t, {
    config: { inbox: { maxIngestPending: 2 } },
  });
  const db = (first.sidecar.inbox as unknown as { store: { db: Database } }).store.db;
  fillDisk(db);
  const buffered = connector.sendBuffered(big('buf1'));
  connector.send(big('live1'));
  await until(
    () => first.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length > 0,
    WAIT,
    'the failure logged',
  );
  // held frames count toward inbox.maxIngestPending: memory stays bounded as under load
  await until(() => first.sink.withMsg('ingest backpressure on').length === 1, WAIT, 'reading paused');
  await first.sidecar.stop();
  const [, abandoned] = first.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED');
  t.like(abandoned, { level: 50, frames: 2, live: 1, buffered: 1 });
  t.false(connector.frames.some(ackOf(buffered)));
  t.deepEqual(agent.deliveries, []);

  // the next start (the disk has room again): the connector redelivers the unacked frame
  await startInProcess(t, { connector, secret, token, agentUrl: agent.url, dataDir: first.dataDir });
  await connector.waitFor(ackOf(buffered), WAIT);
  await until(() => agent.deliveries.length === 1, WAIT, 'the buffered frame delivered');
  t.deepEqual(names(agent.deliveries), ['buf1']);
});

test('a full disk: live interrupts the store refuses are held and delivered once space returns (they were dropped)', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  const db = (sc.sidecar.inbox as unknown as { store: { db: Database } }).store.db;
  const spaceReturns = fillDisk(db);
  // small rows: the first few fit in the pages' slack, a later one needs a page and is refused
  const sessions = Array.from({ length: 60 }, (_, i) => `agent:main:discord:group:c-${i}:u-a`);
  for (const [i, session_key] of sessions.entries()) {
    connector.send({ type: 'interrupt_inbound', session_key, chat_id: `c-${i}` });
  }
  await until(() => sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length > 0, WAIT, 'the failure logged');
  t.like(sc.sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED')[0], {
    msg: 'the store refuses commits; interrupts held and retried',
  });
  t.is((await sc.api('/readyz')).status, 503);

  spaceReturns();
  const interrupted = () =>
    agent.deliveries.filter((d) => (d.envelope as { type?: string } | undefined)?.type === 'interrupt');
  await until(() => interrupted().length === sessions.length, WAIT, 'every interrupt delivered');
  t.deepEqual(
    interrupted()
      .map((d) => (d.envelope as { session_key?: string }).session_key)
      .sort(),
    [...sessions].sort(),
  );
  t.is((await sc.api('/readyz')).status, 200);
  t.like(sc.sink.withMsg('the store takes commits again; held interrupts committed')[0], { level: 30 });
});
