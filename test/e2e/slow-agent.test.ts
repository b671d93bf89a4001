/**
 * Prove it (issue 4): a slow agent for one session does not stall other sessions or the read
 * loop. While the agent sits on one session's request, frames that arrive afterwards for other
 * sessions are read, committed, acked and delivered; `POST /v1/actions` gets its
 * `outbound_result`; the slow session's next message waits its turn and follows once released.
 */
import test from 'ava';
import { startAgent } from '../helpers/loopback-agent.js';
import { AckBook, textOf } from './agent-tools.js';
import {
  ackOf,
  actionOf,
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

const SLOW: Chat = { channel: 'c-slow', user: 'u-slow' };
const FAST: readonly Chat[] = [
  { channel: 'c-fast', user: 'u-1' },
  { channel: 'c-fast', user: 'u-2' },
  { channel: 'c-other', user: 'u-3' },
];

test('one hanging session does not hold up other sessions, the read loop, or outbound results', async (t) => {
  const secret = secretOf('relay-secret');
  const token = secretOf('api-token');
  const connector = await startConnector(t, secret);
  const agent = await startAgent(t, { token });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  t.teardown(() => release());
  const book = new AckBook();
  agent.setScript(
    book.script(async (d) => {
      if (d.envelope?.session_key === sessionOf(SLOW)) await released;
      return { status: 200 };
    }),
  );
  // two slots: the slow session holds one, three other sessions share the other
  const sc = await startInProcess(t, {
    connector,
    secret,
    token,
    agentUrl: agent.url,
    config: { agent: { concurrency: 2 } },
  });

  connector.send(discordMessage(SLOW, 'slow-1', 'm-slow-1'));
  connector.send(discordMessage(SLOW, 'slow-2', 'm-slow-2'));
  await agent.waitUntil((all) => all.some((d) => textOf(d) === 'slow-1'), WAIT);

  // frames that arrive only after the agent began sitting on slow-1
  const expected: string[] = [];
  const bufferIds: string[] = [];
  for (let i = 1; i <= 4; i++) {
    FAST.forEach((chat, s) => {
      if (i % 2 === 0) {
        bufferIds.push(
          connector.sendBuffered(slashCommand(chat, `1400000000000${s}${i}`, 'go', `f${s}-${i}`)),
        );
        expected.push(`/go f${s}-${i}`);
      } else {
        connector.send(discordMessage(chat, `f${s}-${i}`, `m-f${s}-${i}`));
        expected.push(`f${s}-${i}`);
      }
    });
  }
  for (const id of bufferIds) await connector.waitFor(ackOf(id), WAIT);
  await until(
    () => expected.every((text) => book.ackedTexts(agent.deliveries).includes(text)),
    WAIT,
    'fast sessions delivered',
  );
  for (const chat of FAST) {
    const key = sessionOf(chat);
    const mine = expected.filter((text) => text.includes(`f${FAST.indexOf(chat)}-`));
    t.deepEqual(book.ackedTextsOf(agent.deliveries, key), mine, `${key} in order`);
  }

  // an action while the slow request still hangs: the outbound_result comes back
  const res = await sc.api('/v1/actions', {
    method: 'POST',
    body: JSON.stringify({ op: 'send', chat_id: FAST[0]?.channel, content: 'still flowing' }),
  });
  t.is(res.status, 200);
  const { result } = (await res.json()) as { result: Record<string, unknown> };
  t.like(result, { success: true });
  const outbound = await connector.waitFor(
    outboundWhere((a) => a.content === 'still flowing'),
    WAIT,
  );
  t.is(actionOf(outbound).metadata?.scope_id, GUILD);

  // the slow session kept its order: slow-2 was not sent while slow-1 was unanswered
  t.false(agent.deliveries.some((d) => textOf(d) === 'slow-2'));
  t.false(book.ackedAt.has(agent.deliveries.find((d) => textOf(d) === 'slow-1')?.id ?? ''));
  release();
  await until(
    () => book.ackedTextsOf(agent.deliveries, sessionOf(SLOW)).length === 2,
    WAIT,
    'slow session done',
  );
  t.deepEqual(book.ackedTextsOf(agent.deliveries, sessionOf(SLOW)), ['slow-1', 'slow-2']);
  t.is(agent.deliveries.filter((d) => textOf(d) === 'slow-1').length, 1, 'the slow request was not retried');
});
