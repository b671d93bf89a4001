/**
 * The example third-party plugin of docs/plugins.md: its pure conversion, then the plugin loaded
 * from a plugins.json-style manifest through the real PluginHost, and the guide kept in sync with
 * its source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { sessionKey } from '../../core/index.js';
import { callbackToEvent } from '../../docs/examples/telegram-callback/callback-to-event.js';
import { repoRoot } from '../helpers/repo-root.js';
import { BUILTINS, startHost } from './host-harness.js';

const update = {
  update_id: 10,
  callback_query: {
    id: '4382bfdwdsb323b2d9',
    from: { id: 12345, is_bot: false, first_name: 'Ana', last_name: 'Souza', username: 'ana' },
    message: {
      message_id: 77,
      chat: { id: -1001, type: 'supergroup', title: 'Ops', is_forum: true },
      message_thread_id: 5,
    },
    chat_instance: '-99',
    data: 'approve',
  },
};
const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const off = { dataAsCommand: false };

function forward(value: unknown) {
  const bytes = typeof value === 'string' ? Buffer.from(value) : body(value);
  return {
    platform: 'telegram-callback',
    botId: 'tg1',
    method: 'POST',
    path: '/telegram',
    headers: [],
    bodyB64: bytes.toString('base64'),
  };
}

test('conversion: source, text and the pressed message', (t) => {
  const outcome = callbackToEvent(body(update), 'ops', off);
  t.deepEqual(outcome, {
    event: {
      text: 'approve',
      message_type: 'text',
      message_id: '4382bfdwdsb323b2d9',
      reply_to_message_id: '77',
      source: {
        platform: 'telegram',
        chat_id: '-1001',
        chat_type: 'forum',
        chat_name: 'Ops',
        user_id: '12345',
        user_name: 'Ana Souza',
        is_bot: false,
        message_id: '4382bfdwdsb323b2d9',
        profile: 'ops',
        thread_id: '5',
      },
    },
  });
  t.like(callbackToEvent(body(update), null, { dataAsCommand: true }), {
    event: { text: '/approve', message_type: 'command' },
  });
});

test('conversion: private chats are DMs; drops carry their reasons', (t) => {
  const dm = {
    callback_query: {
      ...update.callback_query,
      message: { message_id: 1, chat: { id: 12345, type: 'private' } },
    },
  };
  t.like(callbackToEvent(body(dm), null, off), { event: { source: { chat_type: 'dm', chat_id: '12345' } } });
  t.like(callbackToEvent(Buffer.from('{'), null, off), { drop: 'malformed' });
  t.like(callbackToEvent(body([1]), null, off), { drop: 'malformed' });
  t.like(callbackToEvent(body({ message: {} }), null, off), { drop: 'not_a_callback' });
  t.like(callbackToEvent(body({ callback_query: { id: 'x' } }), null, off), { drop: 'malformed' });
  t.like(
    callbackToEvent(
      body({ callback_query: { ...update.callback_query, data: undefined, game_short_name: 'g' } }),
      null,
      off,
    ),
    {
      drop: 'no_data',
    },
  );
});

test('loaded from a manifest through the PluginHost, next to the built-ins', async (t) => {
  const plugins = [
    ...BUILTINS,
    {
      name: 'telegram-callback',
      module: join(repoRoot(), 'dist/docs/examples/telegram-callback/index.js'),
      options: { dataAsCommand: true },
    },
  ];
  const h = await startHost((fn) => t.teardown(fn), plugins, [{ platform: 'telegram', botId: 'tg1' }]);
  t.like(
    h.host.plugins.find((p) => p.name === 'telegram-callback'),
    { name: 'telegram-callback', enabled: true },
  );

  const outcome = await h.host.convertForward(forward(update));
  if (outcome.kind !== 'events') return t.fail(JSON.stringify(outcome));
  t.is(outcome.plugin, 'telegram-callback');
  const [converted] = outcome.events;
  t.like(converted, {
    event: { text: '/approve', message_type: 'command', source: { platform: 'telegram', thread_id: '5' } },
  });
  t.deepEqual(converted?.capabilities, ['telegram.callback_query']);

  // the built-ins work with it: follow-up learns the capability and tags the fronted platform
  const key = sessionKey(converted!.event.source);
  t.like(
    await h.host.runInbound({
      event: converted!.event,
      sessionKey: key,
      capabilities: converted!.capabilities,
    }),
    { kind: 'event' },
  );
  const validated = h.host.validateAction({ op: 'follow_up', session_key: key, content: 'Approved.' });
  if (!validated.ok) return t.fail(validated.message);
  t.like(await h.host.runOutbound(validated.action, {}), {
    kind: 'ok',
    action: { kind: 'telegram.callback_query' },
    platform: 'telegram',
    botId: 'tg1',
  });

  const dropped = await h.host.convertForward(forward('not json'));
  t.deepEqual(dropped, { kind: 'rejected', plugin: 'telegram-callback', reason: 'malformed' });
  t.true(
    h
      .lines()
      .some(
        (l) =>
          l.msg === 'telegram callback dropped' &&
          l.plugin === 'telegram-callback' &&
          l.reason === 'malformed',
      ),
  );
});

test('options that fail the plugin schema stop the load, naming the plugin', async (t) => {
  const plugins = [
    {
      name: 'telegram-callback',
      module: join(repoRoot(), 'dist/docs/examples/telegram-callback/index.js'),
      options: { dataAsCommand: 'yes' },
    },
  ];
  const err = await t.throwsAsync(startHost((fn) => t.teardown(fn), plugins));
  t.is((err as { code?: string }).code, 'CORE_ERR_PLUGIN_OPTIONS_INVALID');
  t.regex(err!.message, /telegram-callback/);
});

test('docs/plugins.md shows the example source exactly as it is in the repo', (t) => {
  const guide = readFileSync(join(repoRoot(), 'docs/plugins.md'), 'utf8');
  for (const file of [
    'docs/examples/telegram-callback/index.ts',
    'docs/examples/telegram-callback/callback-to-event.ts',
  ]) {
    const source = readFileSync(join(repoRoot(), file), 'utf8').trimEnd();
    t.true(
      guide.includes(`\`\`\`ts\n// ${file}\n${source}\n\`\`\``),
      `${file} is not shown verbatim in docs/plugins.md`,
    );
  }
});
