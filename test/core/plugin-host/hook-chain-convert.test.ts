/**
 * The chain runner in-process (no pool) converting a forward: the body decoded and each event validated,
 * no events carrying the reason, and an invalid converted event a bad result named by field and path,
 * never by value.
 */
import test from 'ava';
import { definePlugin, type MessageEvent } from '../../../core/index.js';
import { runChain } from '../../../core/plugin-host/hook-chain.js';
import { converter, env, failed, forward, ok } from './hook-chain-harness.js';

test('convert decodes the body and validates each event', async (t) => {
  const reply = ok(t, await runChain(forward('héllo'), env([converter])));
  const value = reply.value as { events: { event: MessageEvent; capabilities: string[] }[] };
  t.is(value.events.length, 1);
  t.is(value.events[0]?.event.text, 'héllo');
  t.is(value.events[0]?.event.message_type, 'text');
  t.deepEqual(value.events[0]?.capabilities, ['x.cap']);
  t.is(reply.ms.length, 1);
});

test('convert with no events carries the reason (the final verdict on its input)', async (t) => {
  t.deepEqual(ok(t, await runChain(forward('nothing'), env([converter]))).value, {
    events: [],
    reason: 'ping',
  });
});

test('an invalid event from a converter is a bad result naming the field, not a verdict', async (t) => {
  const reply = failed(t, await runChain(forward('invalid'), env([converter])));
  t.is(reply.at, 0);
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /events\.0\.event\.source: /);
});

test('a bad converted event is reported by path, never by value', async (t) => {
  const secretish = 'body-value-4c1d';
  const wrongText = definePlugin({
    name: 'wrong-text',
    passthrough: {
      platforms: ['x'],
      // the second event is wrong; its value comes from the body and must not be echoed
      convert: (f) => ({
        events: [
          { event: { text: 'fine', source: { platform: 'x', chat_id: 'c' } } },
          { event: { text: [f.body.toString('utf8')], source: { platform: 'x', chat_id: 'c' } } },
        ],
      }),
    },
  });
  const reply = failed(t, await runChain(forward(secretish), env([wrongText])));
  t.is(reply.error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  t.regex(reply.error.message, /events\.1\.event\.text: /);
  t.false(reply.error.message.includes(secretish));
});
