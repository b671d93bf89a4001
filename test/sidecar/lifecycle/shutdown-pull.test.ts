/**
 * A graceful stop in pull mode, in process (real socket, pool, SQLite, HTTP API): an agent
 * mid-turn when the stop begins gets to send its reply and ack the delivery, so the event is
 * not delivered again after the restart (the agent would reply twice). Before, the drain closed
 * the API within milliseconds: the reply and the ack were refused, and the event came back.
 */
import test, { type ExecutionContext } from 'ava';
import {
  type Chat,
  discordMessage,
  type InProcess,
  secretOf,
  startConnector,
  startInProcess,
  WAIT,
} from '../../e2e/e2e-harness.js';
import { SseClient } from '../../e2e/sse-client.js';

const CHAT: Chat = { channel: 'c-stop', user: 'u-stop' };
/** How long the agent's turn takes: the stop begins at once, the ack comes this much later. */
const TURN_MS = 200;

/** `fetch` outcome as a word: the status, or `refused` when the API no longer answers. */
async function outcome(call: Promise<Response>): Promise<string> {
  try {
    const res = await call;
    const body = await res.text();
    return `${res.status}${body ? ` ${body}` : ''}`;
  } catch {
    return 'refused';
  }
}

/** Open the agent's stream on `sc`; closed at teardown. */
async function openStream(t: ExecutionContext, sc: InProcess) {
  const port = (sc.sidecar.api.address() as { port: number }).port;
  const stream = await SseClient.open(`http://127.0.0.1:${port}/v1/events`, sc.token);
  t.teardown(() => stream.close());
  return stream;
}

test('pull: a stop right after a delivery is sent waits for the agent’s reply and ack; nothing comes again after the restart', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  // the default budget: the wait ends with the ack, and the closing steps keep room under load
  const config = { shutdown: { budgetMs: 10_000 } };
  const sc = await startInProcess(t, { connector, secret, token, config });
  const stream = await openStream(t, sc);
  connector.send(discordMessage(CHAT, 'reply once', 'm-once'));
  await stream.waitUntil((ev) => ev.length === 1, WAIT);
  const id = String(stream.events[0]?.id);

  // the agent's turn: reply, then ack, TURN_MS after it received the event
  const turn = new Promise<[string, string]>((resolve) => {
    setTimeout(async () => {
      const reply = await outcome(
        sc.api('/v1/actions', {
          method: 'POST',
          body: JSON.stringify({ op: 'send', chat_id: CHAT.channel, content: 'the reply' }),
        }),
      );
      resolve([reply, await outcome(sc.api(`/v1/events/${id}/ack`, { method: 'POST' }))]);
    }, TURN_MS);
  });
  // SIGTERM's equivalent, right after the delivery was sent
  const stopped = sc.sidecar.stop();
  const [reply, ack] = await turn;
  await stopped;
  t.regex(reply, /^200 .*"success":true/, 'the reply went out while the socket was still up');
  t.is(ack, '204', 'the ack landed');
  t.like(sc.sink.withMsg('shutdown waits for the agent to ack')[0], { unacked: 1 });
  const cut = sc.sink.withCode('CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED');
  t.deepEqual(
    cut.filter((l) => l.step === 'deliveries'),
    [],
    'the wait ended with the ack',
  );

  // the restart has nothing to deliver: the agent would have replied twice
  const again = await startInProcess(t, { connector, secret, token, dataDir: sc.dataDir });
  const status = (await (await again.api('/v1/status')).json()) as {
    inbox?: { pending?: number; delivered?: number };
  };
  t.like(status.inbox, { pending: 0, delivered: 1 });
});
