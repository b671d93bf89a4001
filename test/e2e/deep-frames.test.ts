/**
 * A connector frame nested thousands of levels deep (found by fuzzing the read path): it parses,
 * but the structured clone into the plugin worker overflows its stack, which failed the whole
 * batch the frame travelled in. Its neighbours, good frames sent in the same message, were left
 * un-acked (buffered) or dead-lettered (live) instead of delivered. And an `outbound_result`
 * that deep reached the agent API, whose reply could not be serialised: an unhandled rejection,
 * which ends a Node 20 process.
 */
import test from 'ava';
import { textOf } from './agent-tools.js';
import {
  ackOf,
  type Chat,
  discordMessage,
  secretOf,
  startConnector,
  startInProcess,
  startPushStack,
  until,
  WAIT,
} from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-deep', user: 'u-deep' };
const DEPTH = 20_000;

test('a frame nested too deep is dead-lettered and acked; good frames in the same message are delivered', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  await connector.waitForConnection(WAIT);

  const deep = discordMessage(CHAT, 'deep', 'm-deep');
  const nested = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
  const deepEvent = JSON.stringify(deep.event).replace(/}$/, `,"extra":${nested}}`);
  const lines = [
    `{"type":"inbound","bufferId":"b-deep","event":${deepEvent}}`,
    JSON.stringify({ ...discordMessage(CHAT, 'after buffered', 'm-b'), bufferId: 'b-good' }),
    JSON.stringify(discordMessage(CHAT, 'after live', 'm-l')),
  ];
  // one message: the three frames reach the pipeline in one turn, so they share a batch
  connector.send(`${lines.join('\n')}\n`);

  await connector.waitFor(ackOf('b-good'), WAIT);
  await connector.waitFor(ackOf('b-deep'), WAIT);
  await until(
    () => ['after buffered', 'after live'].every((text) => agent.deliveries.some((d) => textOf(d) === text)),
    WAIT,
    'good frames delivered',
  );
  t.false(agent.deliveries.some((d) => textOf(d) === 'deep'));
  const listed = (await (await sc.api('/v1/dead-letters')).json()) as {
    dead_letters: { code: string }[];
  };
  t.deepEqual(
    listed.dead_letters.map((d) => d.code),
    ['CORE_ERR_FRAME_SCHEMA'],
  );
  t.is(sc.sink.lines.filter((l) => l.code === 'CORE_ERR_PLUGIN_WORKER_DIED').length, 0);
});

test('an outbound_result nested too deep answers its call at once as unreadable (ambiguous), the sidecar stays up', async (t) => {
  const secret = secretOf('relay');
  const connector = await startConnector(t, secret);
  // a timeout the test would not wait out: the answer must come from the result frame
  const sc = await startInProcess(t, { connector, secret, config: { relay: { outboundTimeoutMs: 60_000 } } });
  await connector.waitForConnection(WAIT);
  // answer each outbound with a result holding an unknown key 20 000 objects deep
  connector.setRespond(() => undefined);
  connector.onFrame((f) => {
    if (f.dir !== 'in' || f.frame.type !== 'outbound') return;
    const nested = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;
    const requestId = String(f.frame.requestId);
    connector.send(
      `{"type":"outbound_result","requestId":"${requestId}","result":{"success":true,"extra":${nested}}}\n`,
    );
  });
  const res = await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: 'c1', content: 'x' }),
  });
  t.is(res.status, 200);
  t.like(await res.json(), {
    result: {
      success: false,
      error: 'relay outbound result unreadable: nested more than 64 levels deep',
      ambiguous: true,
    },
  });
  t.true(sc.sink.withCode('CORE_ERR_FRAME_SCHEMA').length >= 1);
  t.deepEqual(sc.sink.withCode('CORE_ERR_OUTBOUND_TIMEOUT'), []);
  t.is((await sc.api('/readyz')).status, 200);
});
