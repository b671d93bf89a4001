import test from 'ava';
import plugin from '../../../plugins/discord-interaction/index.js';
import { testContext } from '../plugin-context.js';

function forward(body: string | Buffer) {
  return {
    platform: 'discord',
    botId: 'b1',
    method: 'POST',
    path: '/interactions',
    headers: [['content-type', 'application/json']] as [string, string][],
    bodyB64: Buffer.from(body).toString('base64'),
    body: Buffer.from(body),
    profile: null,
  };
}

const interaction = {
  id: 'i1',
  type: 2,
  data: { name: 'new', type: 1 },
  channel_id: 'd1',
  user: { id: 'u1', username: 'nelly' },
};

test('declares passthrough discord and rejects unknown options', (t) => {
  t.deepEqual(plugin.passthrough?.platforms, ['discord']);
  t.false(plugin.options!.safeParse({ extra: 1 }).success);
});

test('a command grants the interaction-token capability', async (t) => {
  const { ctx } = testContext(plugin);
  const result = await plugin.passthrough!.convert(forward(JSON.stringify(interaction)), ctx);
  t.is(result.events.length, 1);
  t.deepEqual(result.events[0]?.capabilities, ['discord.interaction_token']);
});

test('a token is removed with a warning that never carries its value', async (t) => {
  const { ctx, lines } = testContext(plugin);
  const result = await plugin.passthrough!.convert(
    forward(JSON.stringify({ ...interaction, token: 'SECRET-TOKEN' })),
    ctx,
  );
  t.is(result.events.length, 1);
  const warning = lines.find((l) => l.msg === 'discord interaction token removed');
  t.like(warning, { level: 'warn', fields: { interaction_id: 'i1', removed: 1 } });
  t.false(JSON.stringify({ result, lines }).includes('SECRET-TOKEN'));
});

test('a body that is not a JSON object is dropped as malformed with a warning, never a throw', async (t) => {
  for (const body of ['{nope', '[]', '"x"', Buffer.from([0xc3, 0x28])]) {
    const { ctx, lines } = testContext(plugin);
    const result = await plugin.passthrough!.convert(forward(body), ctx);
    t.deepEqual(result, { events: [], reason: 'malformed' });
    t.like(lines[0], { level: 'warn', fields: { reason: 'malformed' } });
  }
});

test('PING is dropped with reason ping, as benign traffic', async (t) => {
  const { ctx } = testContext(plugin);
  t.deepEqual(await plugin.passthrough!.convert(forward('{"type":1,"id":"p"}'), ctx), {
    events: [],
    reason: 'ping',
    benign: true,
  });
});

test('AUTOCOMPLETE is dropped as benign traffic too, at debug; an unknown type is not benign', async (t) => {
  const auto = testContext(plugin);
  t.deepEqual(
    await plugin.passthrough!.convert(forward('{"type":4,"id":"a","data":{"name":"x"}}'), auto.ctx),
    { events: [], reason: 'autocomplete', benign: true },
  );
  t.is(auto.lines[0]?.level, 'debug');
  const unknown = testContext(plugin);
  t.deepEqual(await plugin.passthrough!.convert(forward('{"type":42,"id":"u"}'), unknown.ctx), {
    events: [],
    reason: 'unsupported_type',
    benign: false,
  });
  t.is(unknown.lines[0]?.level, 'warn');
});

test('a malformed body is dropped as not benign (kept as a dead letter)', async (t) => {
  const { ctx } = testContext(plugin);
  t.deepEqual(await plugin.passthrough!.convert(forward('{not json'), ctx), {
    events: [],
    reason: 'malformed',
  });
});
