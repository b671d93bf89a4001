/**
 * Prove it (issue 4): full round trips through the real socket, pool, inbox and HTTP API.
 * Push: connector `inbound` → agent → `send` in the response body → `outbound` frame with the
 * scope re-attached → `outbound_result` → recorded. The same through `POST /v1/actions`
 * (answering `{result}`), a buffered slash command answered with a token-less `follow_up`, and
 * pull mode: `GET /v1/events` (SSE) + ack, with an unacked delivery re-sent on a new stream.
 */
import test from 'ava';
import type { RecordedFrame } from '../../sidecar/dev-connector/index.js';
import { startAgent } from '../helpers/loopback-agent.js';
import {
  ackOf,
  actionOf,
  BOT_ID,
  type Chat,
  discordMessage,
  GUILD,
  outboundWhere,
  secretOf,
  sessionOf,
  slashCommand,
  startConnector,
  startInProcess,
  until,
  WAIT,
} from './e2e-harness.js';
import { SseClient } from './sse-client.js';

const CHAT: Chat = { channel: 'c-rt', user: 'u-rt' };

/** The connector's `outbound_result` for `requestId`. */
const resultFor =
  (requestId: unknown) =>
  (f: RecordedFrame): boolean =>
    f.dir === 'out' && f.frame.type === 'outbound_result' && f.frame.requestId === requestId;

test('push: inbound → agent → send in the response body → outbound with scope → outbound_result, recorded', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  connector.setRespond((frame) => ({ success: true, message_id: `mid-${frame.requestId.slice(0, 8)}` }));
  const agent = await startAgent(t, { token });
  agent.setScript((d) => {
    const event = d.envelope?.event;
    if (d.envelope?.origin?.plugin === 'discord-interaction') {
      return {
        actions: [{ op: 'follow_up', session_key: d.envelope?.session_key, content: `done ${event?.text}` }],
      };
    }
    return { actions: [{ op: 'send', chat_id: event?.source?.chat_id, content: `echo: ${event?.text}` }] };
  });
  const sc = await startInProcess(t, { connector, secret, token, agentUrl: agent.url });

  connector.send(discordMessage(CHAT, 'hello relay', 'm-rt-1'));
  const out = await connector.waitFor(
    outboundWhere((a) => a.content === 'echo: hello relay'),
    WAIT,
  );
  t.like(out.frame, { platform: 'discord', botId: BOT_ID });
  t.regex(String(out.frame.requestId), /^[0-9a-f]{32}$/);
  const action = actionOf(out);
  t.like(action, { op: 'send', chat_id: CHAT.channel, reply_to: null });
  t.like(action.metadata, { scope_id: GUILD, guild_id: GUILD, user_id: CHAT.user });
  await connector.waitFor(resultFor(out.frame.requestId), WAIT);
  // recorded: the result settled the call it answered (counted as a success, not an unknown id)
  await until(
    async () =>
      (await sc.sidecar.metrics.value('relay_outbound_results_total', { outcome: 'success' })) === 1,
    WAIT,
    'result recorded',
  );
  t.is(await sc.sidecar.metrics.value('relay_frames_ignored_total', { reason: 'unknown_request' }), 0);

  // a buffered slash command: acked after the commit, answered with a token-less follow_up
  const bufferId = connector.sendBuffered(slashCommand(CHAT, '1500000000000000001', 'model', 'gpt-x'));
  await connector.waitFor(ackOf(bufferId), WAIT);
  const followUp = await connector.waitFor(
    outboundWhere((a) => a.op === 'follow_up'),
    WAIT,
  );
  t.like(actionOf(followUp), {
    session_key: sessionOf(CHAT),
    kind: 'discord.interaction_token',
    content: 'done /model gpt-x',
  });
  t.is(followUp.frame.platform, 'discord');
  await connector.waitFor(resultFor(followUp.frame.requestId), WAIT);
  await until(
    async () =>
      (await sc.sidecar.metrics.value('relay_outbound_results_total', { outcome: 'success' })) === 2,
    WAIT,
    'follow_up result recorded',
  );
  t.is(sc.sink.withCode('CORE_ERR_DELIVERY_ACTION_FAILED').length, 0);
  const envelopes = agent.envelopes();
  t.deepEqual(
    envelopes.map((e) => e.event.text),
    ['hello relay', '/model gpt-x'],
  );
  t.deepEqual(envelopes[1]?.capabilities, ['discord.interaction_token']);
});

test('POST /v1/actions: outbound with re-attached scope, answered with the connector result', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  connector.setRespond((frame) => ({ success: true, message_id: `mid-${frame.requestId}` }));
  const agent = await startAgent(t, { token });
  const sc = await startInProcess(t, { connector, secret, token, agentUrl: agent.url });
  // the scope is learned from an inbound event of that chat
  connector.send(discordMessage(CHAT, 'learn my scope', 'm-rt-2'));
  await agent.waitFor(1, WAIT);

  const res = await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: CHAT.channel, content: 'from the agent' }),
  });
  t.is(res.status, 200);
  const body = (await res.json()) as { result: Record<string, unknown> };
  const out = await connector.waitFor(
    outboundWhere((a) => a.content === 'from the agent'),
    WAIT,
  );
  t.deepEqual(body, { result: { success: true, message_id: `mid-${out.frame.requestId}` } });
  t.like(actionOf(out).metadata, { scope_id: GUILD, user_id: CHAT.user });
  t.like(out.frame, { platform: 'discord', botId: BOT_ID });

  // an explicit scope is never overwritten
  await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({
      op: 'send',
      chat_id: CHAT.channel,
      content: 'explicit',
      metadata: { scope_id: 'G-own' },
    }),
  });
  const explicit = await connector.waitFor(
    outboundWhere((a) => a.content === 'explicit'),
    WAIT,
  );
  t.is(actionOf(explicit).metadata?.scope_id, 'G-own');
});

test('pull: SSE delivery + ack; an unacked delivery is re-sent on a new stream; actions flow', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret, token });
  const base = `http://127.0.0.1:${(sc.sidecar.api.address() as { port: number }).port}`;

  const stream = await SseClient.open(`${base}/v1/events`, token);
  t.teardown(() => stream.close());
  t.is(stream.status, 200);
  connector.send(discordMessage(CHAT, 'pull me', 'm-pull-1'));
  await stream.waitUntil((events) => events.length === 1, WAIT);
  const [first] = stream.events;
  t.regex(String(first?.id), /^dlv_/);
  t.is(first?.event, 'message');
  t.like(first?.data, { id: first?.id, type: 'message', session_key: sessionOf(CHAT), attempt: 1 });
  t.is(first?.data?.event?.text, 'pull me');
  const ack = await sc.api(`/v1/events/${first?.id}/ack`, { method: 'POST' });
  t.is(ack.status, 204);
  await until(() => sc.sidecar.inbox.stats().pending === 0, WAIT, 'acked delivery settled');

  // not acked: a new stream (replacing this one) gets it again, same id, next attempt
  const bufferId = connector.sendBuffered(discordMessage(CHAT, 'pull again', 'm-pull-2'));
  await connector.waitFor(ackOf(bufferId), WAIT);
  await stream.waitUntil((events) => events.length === 2, WAIT);
  const second = stream.events[1];
  const again = await SseClient.open(`${base}/v1/events`, token, second?.id);
  t.teardown(() => again.close());
  await again.waitUntil((events) => events.some((e) => e.id === second?.id), WAIT);
  const resent = again.events.find((e) => e.id === second?.id);
  t.is(resent?.data?.attempt, 2);
  t.false(
    again.events.some((e) => e.id === first?.id),
    'the acked delivery is not re-sent',
  );
  t.is((await sc.api(`/v1/events/${second?.id}/ack`, { method: 'POST' })).status, 204);
  await until(() => sc.sidecar.inbox.stats().pending === 0, WAIT, 'second delivery settled');

  const res = await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: CHAT.channel, content: 'pulled and answered' }),
  });
  t.like(await res.json(), { result: { success: true } });
  const out = await connector.waitFor(
    outboundWhere((a) => a.content === 'pulled and answered'),
    WAIT,
  );
  t.is(actionOf(out).metadata?.scope_id, GUILD);
});
