/**
 * Property-based fuzzing of the push response edge on a real sidecar: the agent answers each
 * delivery 2xx with any body — `{"actions": [...]}` holding every op of the contract mutated, any
 * JSON, broken JSON, under any content type. Each delivery counts as delivered once (never
 * retried for its body), the sidecar keeps serving, and nothing is reported as an internal failure.
 */
import test from 'ava';
import fc from 'fast-check';
import { type Json, mutate, mutation } from '../helpers/json-mutation.js';
import { type LoopbackAgentOptions } from '../helpers/loopback-agent.js';
import { textOf } from './agent-tools.js';
import { type Chat, discordMessage, startPushStack, until, WAIT } from './e2e-harness.js';

const ACTIONS: readonly Record<string, Json>[] = [
  { op: 'send', chat_id: 'c-push', content: 'hi' },
  { op: 'typing', chat_id: 'c-push' },
  { op: 'react', chat_id: 'c-push', message_id: 'm1', emoji: '👍' },
  { op: 'get_chat_info', chat_id: 'c-push' },
  {
    op: 'follow_up',
    session_key: 'agent:main:discord:dm:c1',
    kind: 'discord.interaction_token',
    content: 'x',
  },
];

const body = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom(...ACTIONS), fc.array(mutation, { maxLength: 3 })), { maxLength: 3 })
    .map((list) => JSON.stringify({ actions: list.map(([a, ms]) => mutate(a, ms)) })),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ actions: v }) ?? ''),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 20 }).map((s) => `{"actions":[${s}`),
);

test('any 2xx push response body: the delivery counts once, the sidecar keeps serving', async (t) => {
  const replies: { body: string; contentType: string }[] = [];
  const script: LoopbackAgentOptions['script'] = (d) => {
    const text = textOf(d) ?? '';
    const reply = replies[Number(text.replace('push-', ''))] ?? { body: '', contentType: 'text/plain' };
    return { status: 200, body: reply.body, headers: { 'content-type': reply.contentType } };
  };
  const { connector, agent, sc } = await startPushStack(t, { agent: { script } });
  await connector.waitForConnection(WAIT);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      body,
      fc.constantFrom('application/json', 'text/plain', ''),
      async (text, contentType) => {
        const i = n++;
        replies[i] = { body: text, contentType };
        const chat: Chat = { channel: `c-push-${i % 3}`, user: 'u1' };
        connector.send(discordMessage(chat, `push-${i}`, `m-push-${i}`));
        await until(() => agent.deliveries.some((d) => textOf(d) === `push-${i}`), WAIT, `push-${i}`);
      },
    ),
    {
      numRuns: 40,
      includeErrorInReport: true,
      examples: [[JSON.stringify({ actions: [ACTIONS[0]] }), 'application/json']],
    },
  );
  // every delivery once: a body never makes the sidecar deliver it again
  const texts = agent.deliveries.map((d) => textOf(d)).filter((x) => x?.startsWith('push-'));
  t.is(new Set(texts).size, texts.length);
  t.is((await sc.api('/readyz')).status, 200);
  // not vacuous: the first example's send was executed (it reached the connector)
  await until(() => connector.frames.some((f) => f.dir === 'in' && f.frame.type === 'outbound'), WAIT);

  for (const code of [
    'CORE_ERR_INTERNAL_THREW',
    'CORE_ERR_API_HANDLER_FAILED',
    'CORE_ERR_PLUGIN_WORKER_DIED',
  ]) {
    t.is(sc.sink.lines.filter((l) => l.code === code).length, 0, code);
  }
});
