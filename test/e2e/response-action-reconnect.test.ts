/**
 * A push agent's reply (`{"actions": [...]}` in its response) that meets the relay between two
 * connections: nothing could be sent, and the agent never sees the answer, so the sidecar waits
 * for the connection (at most `relay.outboundTimeoutMs`) and sends it then — exactly once. An
 * action that was written before the socket went (ambiguous) is never run again.
 */
import test from 'ava';
import { type Chat, discordMessage, outboundWhere, startPushStack, until, WAIT } from './e2e-harness.js';

const CHAT: Chat = { channel: 'c-rc', user: 'u-rc' };

test('a response action that meets a dropped connection is sent once the connection is back, once', async (t) => {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { connector, agent, sc } = await startPushStack(t);
  agent.setScript(async (d) => {
    await released;
    return { actions: [{ op: 'send', chat_id: d.envelope?.event?.source?.chat_id, content: 'late reply' }] };
  });
  connector.send(discordMessage(CHAT, 'hello', 'm-rc-1'));
  await agent.waitFor(1);

  // the relay goes away while the agent thinks: the next connection never completes its handshake
  connector.setDescriptorFor(() => null);
  connector.drop();
  await until(() => sc.sidecar.state === 'reconnecting', WAIT, 'state reconnecting');
  release();
  await sc.sink.waitFor((l) => l.msg === 'response action waits for the relay connection', WAIT);

  // the relay is back: the reply goes out on the new connection
  connector.setDescriptorFor(undefined);
  connector.drop();
  const sent = await connector.waitFor(
    outboundWhere((a) => a.content === 'late reply'),
    WAIT,
  );
  t.is(sent.frame.type, 'outbound');
  await until(() => sc.sidecar.client.pendingCount() === 0, WAIT, 'the result');
  const copies = connector.frames.filter(outboundWhere((a) => a.content === 'late reply'));
  t.is(copies.length, 1);
  t.is(sc.sink.withCode('CORE_ERR_DELIVERY_ACTION_FAILED').length, 0);
});

test('a response action whose frame was lost with the socket (ambiguous) is not sent again', async (t) => {
  const { connector, agent, sc } = await startPushStack(t);
  connector.setRespond(() => undefined); // the connector never answers: the socket goes first
  agent.setScript((d) => ({
    actions: [{ op: 'send', chat_id: d.envelope?.event?.source?.chat_id, content: 'maybe sent' }],
  }));
  connector.send(discordMessage(CHAT, 'hello', 'm-rc-2'));
  await connector.waitFor(
    outboundWhere((a) => a.content === 'maybe sent'),
    WAIT,
  );
  connector.drop();
  await sc.sink.waitFor((l) => l.code === 'CORE_ERR_DELIVERY_ACTION_FAILED', WAIT);
  await sc.sidecar.waitForState('ready', WAIT);
  t.is(connector.frames.filter(outboundWhere((a) => a.content === 'maybe sent')).length, 1);
});
