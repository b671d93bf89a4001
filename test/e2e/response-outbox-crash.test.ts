/**
 * Push response actions survive the sidecar process being killed (SIGKILL): the agent's reply is
 * stored with the delivered mark, so an action that had not gone out is sent after the restart,
 * exactly once, and the agent never sees the delivery again; an action whose frame may have gone
 * out (marked started) is reported ambiguous after the restart and never sent again, while the
 * session's later actions still go out. Real child processes, dev connector and loopback agent.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import BetterSqlite3 from 'better-sqlite3';
import type { DevConnector } from '../../sidecar/dev-connector/index.js';
import { type LoopbackAgent, startAgent } from '../helpers/loopback-agent.js';
import { type SidecarProcess, startSidecarProcess } from '../helpers/sidecar-process.js';
import {
  CHILD_TUNABLES,
  type Chat,
  deepMergeAll,
  discordMessage,
  outboundWhere,
  relayEnv,
  secretOf,
  startConnector,
  tempDir,
  until,
  WAIT,
} from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-ob', user: 'u-ob' };

/** A response action may wait a long time for the relay: it must not give up in these tests. */
const TUNABLES = deepMergeAll(CHILD_TUNABLES, { relay: { outboundTimeoutMs: 60_000 } });

/** The outbox rows in the child's store: content and whether each is marked started. */
function outboxRows(dataDir: string): { content: string; started: boolean }[] {
  const db = new BetterSqlite3(join(dataDir, 'sidecar.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT action, started_at FROM inbox_outbox ORDER BY seq').all() as {
      action: string;
      started_at: number | null;
    }[];
    return rows.map((r) => ({
      content: (JSON.parse(r.action) as { content: string }).content,
      started: r.started_at !== null,
    }));
  } finally {
    db.close();
  }
}

interface Stack {
  readonly connector: DevConnector;
  readonly agent: LoopbackAgent;
  readonly dataDir: string;
  start(): Promise<SidecarProcess>;
}

/** The agent's answer: one `send` to the chat per content, in order. */
const replies = (...contents: string[]) => ({
  actions: contents.map((content) => ({ op: 'send', chat_id: CHAT.channel, content })),
});

/** Start the first life and send it one message; resolves once the connector sent it. */
async function firstLife(s: Stack, messageId: string): Promise<SidecarProcess> {
  const first = await s.start();
  await s.connector.waitForConnection(WAIT);
  s.connector.send(discordMessage(CHAT, 'hello', messageId));
  return first;
}

async function stack(t: ExecutionContext): Promise<Stack> {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const dataDir = tempDir(t);
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  const start = () =>
    startSidecarProcess(t, {
      env: { ...relayEnv(connector, secret, { url: agent.url, token, dataDir }), LOG_LEVEL: 'debug' },
      config: TUNABLES,
      configDir: dataDir,
      // a start may take long on a loaded machine; the test is not about start-up time
      readyTimeoutMs: 60_000,
    });
  return { connector, agent, dataDir, start };
}

const copiesOf = (connector: DevConnector, content: string) =>
  connector.frames.filter(outboundWhere((a) => a.content === content)).length;

const stops = {
  SIGKILL: 'SIGKILL after the delivered mark, before the actions went out: sent after the restart, once',
  SIGTERM: 'SIGTERM while the actions wait for the relay: kept, sent after the restart, once',
} as const;

for (const [signal, title] of Object.entries(stops) as [keyof typeof stops, string][]) {
  test(title, async (t) => {
    const s = await stack(t);
    const { connector, agent, dataDir, start } = s;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    agent.setScript(async () => {
      await released;
      return replies('reply one', 'reply two');
    });
    const first = await firstLife(s, 'm-ob-1');
    await agent.waitFor(1);
    // the relay goes away while the agent thinks: the next connection never completes its handshake
    connector.setDescriptorFor(() => null);
    connector.drop();
    await until(async () => (await first.api('/readyz')).status === 503, WAIT, 'relay down');
    release();
    await first.waitForLine((l) => l.msg === 'response action waits for the relay connection', WAIT);
    // the reply is stored, nothing of it started (the try met no connection), and then the stop:
    // a graceful one ends the wait and keeps the actions (it used to fail them, lost)
    const stored = [
      { content: 'reply one', started: false },
      { content: 'reply two', started: false },
    ];
    t.deepEqual(outboxRows(dataDir), stored);
    const exit = await first.kill(signal);
    t.deepEqual(exit, signal === 'SIGKILL' ? { code: null, signal } : { code: 0, signal: null });
    t.deepEqual(outboxRows(dataDir), stored);
    t.is(copiesOf(connector, 'reply one'), 0);
    t.is(first.lines.filter((l) => l.code === 'CORE_ERR_DELIVERY_ACTION_FAILED').length, 0);

    connector.setDescriptorFor(undefined);
    const second = await start();
    await connector.waitFor(
      outboundWhere((a) => a.content === 'reply two'),
      WAIT,
    );
    await until(() => outboxRows(dataDir).length === 0, WAIT, 'the outbox drained');
    const sent = connector.frames.filter(outboundWhere((a) => String(a.content).startsWith('reply')));
    t.deepEqual(
      sent.map((f) => (f.frame.action as { content: string }).content),
      ['reply one', 'reply two'],
      'each once, in order',
    );
    t.is(agent.deliveries.length, 1, 'the agent never saw the delivery again');
    t.deepEqual(await second.kill('SIGTERM'), { code: 0, signal: null });
  });
}

test('SIGKILL while a started action awaits its result: not sent again after the restart, reported ambiguous', async (t) => {
  const s = await stack(t);
  const { connector, agent, dataDir, start } = s;
  connector.setRespond(() => undefined); // the connector never answers: the frame is out, no result
  agent.setScript(() => replies('maybe sent', 'after it'));
  const first = await firstLife(s, 'm-ob-2');
  await connector.waitFor(
    outboundWhere((a) => a.content === 'maybe sent'),
    WAIT,
  );
  t.deepEqual(outboxRows(dataDir), [
    { content: 'maybe sent', started: true },
    { content: 'after it', started: false },
  ]);
  t.like(await first.kill('SIGKILL'), { signal: 'SIGKILL' });

  connector.setRespond(undefined);
  const second = await start();
  const line = await second.waitForLine((l) => l.code === 'CORE_ERR_DELIVERY_ACTION_AMBIGUOUS', WAIT);
  t.like(line, { index: 0, op: 'send' });
  await connector.waitFor(
    outboundWhere((a) => a.content === 'after it'),
    WAIT,
  );
  await until(() => outboxRows(dataDir).length === 0, WAIT, 'the outbox drained');
  t.is(copiesOf(connector, 'maybe sent'), 1, 'the ambiguous action was not sent again');
  t.is(copiesOf(connector, 'after it'), 1);
  t.is(agent.deliveries.length, 1);
  const metrics = await (await second.api('/metrics')).text();
  t.regex(metrics, /relay_errors_total\{code="CORE_ERR_DELIVERY_ACTION_AMBIGUOUS"\} 1/);
  t.deepEqual(await second.kill('SIGTERM'), { code: 0, signal: null });
});
