import test from 'ava';
import plugin from '../../../plugins/twilio/index.js';
import { testContext } from '../plugin-context.js';

function forward(body: string, contentType = 'application/x-www-form-urlencoded') {
  return {
    platform: 'twilio',
    botId: 'AC1',
    method: 'POST',
    path: '/twilio/sms',
    headers: [['content-type', contentType]] as [string, string][],
    bodyB64: Buffer.from(body).toString('base64'),
    body: Buffer.from(body),
    profile: null,
  };
}

test('declares passthrough twilio', (t) => {
  t.deepEqual(plugin.passthrough?.platforms, ['twilio']);
});

test('an SMS becomes one event without capabilities', async (t) => {
  const { ctx } = testContext(plugin);
  const result = await plugin.passthrough!.convert(forward('MessageSid=SM1&From=%2B1&Body=hi'), ctx);
  t.is(result.events.length, 1);
  t.is(result.events[0]?.capabilities, undefined);
});

test('a JSON body is dropped as malformed with a warning naming the content type, never the body', async (t) => {
  const { ctx, lines } = testContext(plugin);
  const result = await plugin.passthrough!.convert(forward('{"Body":"private"}', 'application/json'), ctx);
  t.deepEqual(result, { events: [], reason: 'malformed' });
  t.like(lines[0], {
    level: 'warn',
    fields: { reason: 'malformed', problem: 'content_type', content_type: 'application/json' },
  });
  t.false(JSON.stringify(lines).includes('private'));
});

test('a status callback is dropped with reason status_callback at debug level', async (t) => {
  const { ctx, lines } = testContext(plugin);
  const result = await plugin.passthrough!.convert(
    forward('MessageSid=SM1&MessageStatus=sent&From=%2B1'),
    ctx,
  );
  t.deepEqual(result, { events: [], reason: 'status_callback', benign: true });
  t.is(lines[0]?.level, 'debug');
});

test('a form that is no message, voice input or status callback is dropped as malformed, not benign', async (t) => {
  const { ctx, lines } = testContext(plugin);
  const result = await plugin.passthrough!.convert(forward('AccountSid=AC1&Foo=bar'), ctx);
  t.deepEqual(result, { events: [], reason: 'malformed', benign: false });
  t.is(lines[0]?.level, 'warn');
});
