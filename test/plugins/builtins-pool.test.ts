/**
 * scope-reattacher and follow-up through the real pool: an inbound event teaches the store in one
 * worker, the outbound chain reads it back (maybe in another), and follow_up is validated by the
 * op schema the plugin defines, then amended or refused by its hook.
 */
import { join } from 'node:path';
import test from 'ava';
import { type MessageEvent, MessageEventSchema, sessionKey } from '../../core/index.js';
import { databasePath, openDatabase } from '../../core/store/database.js';
import { repoRoot } from '../helpers/repo-root.js';
import { BUILTINS, builtinModule, type Harness, startHost } from './host-harness.js';

const identities = [
  { platform: 'discord', botId: 'B1' },
  { platform: 'telegram', botId: 'T1' },
];

const guildEvent = MessageEventSchema.parse({
  text: '/new',
  message_type: 'command',
  source: {
    platform: 'discord',
    chat_id: 'c1',
    chat_type: 'group',
    scope_id: 'g1',
    user_id: 'u1',
    profile: 'reviewer',
  },
});
const dmEvent = MessageEventSchema.parse({
  text: 'hi',
  source: {
    platform: 'telegram',
    chat_id: 'd1',
    chat_type: 'dm',
    scope_id: 'ignored',
    user_id: 'u2',
    profile: 'p',
  },
});

async function inbound(h: Harness, event: MessageEvent, capabilities: string[] = []) {
  const key = sessionKey(event.source);
  const outcome = await h.host.runInbound({ event, sessionKey: key, capabilities });
  if (outcome.kind !== 'event') throw new Error(`inbound: ${JSON.stringify(outcome)}`);
  return key;
}

async function outbound(h: Harness, raw: Record<string, unknown>) {
  const validated = h.host.validateAction(raw);
  if (!validated.ok) return validated;
  return h.host.runOutbound(validated.action, {});
}

test('a send to a known group chat gets scope, user, profile, the guild mirror and both tags', async (t) => {
  const h = await startHost((fn) => t.teardown(fn), BUILTINS, identities);
  await inbound(h, guildEvent);
  const outcome = await outbound(h, {
    op: 'send',
    chat_id: 'c1',
    content: 'ok',
    metadata: { user_id: 'explicit' },
  });
  t.deepEqual(outcome, {
    kind: 'ok',
    action: {
      op: 'send',
      chat_id: 'c1',
      content: 'ok',
      reply_to: null,
      metadata: { user_id: 'explicit', scope_id: 'g1', profile: 'reviewer', guild_id: 'g1' },
    },
    platform: 'discord',
    botId: 'B1',
  });
});

test('repeated events of one chat leave its stored memory alone until something changes', async (t) => {
  const h = await startHost((fn) => t.teardown(fn), BUILTINS, identities);
  const db = openDatabase(databasePath(h.dataDir));
  t.teardown(() => db.close());
  const row = () =>
    db
      .prepare("SELECT value, expires_at FROM kv WHERE ns = 'scope-reattacher' AND key = 'chat:c1'")
      .get() as {
      value: string;
      expires_at: number;
    };
  await inbound(h, guildEvent);
  const first = row();
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3));
    await inbound(h, guildEvent);
  }
  t.deepEqual(row(), first, 'same memory, same expiry: no write');
  await inbound(
    h,
    MessageEventSchema.parse({ ...guildEvent, source: { ...guildEvent.source, user_id: 'u9' } }),
  );
  t.is(JSON.parse(row().value).user_id, 'u9');
  t.true(row().expires_at > first.expires_at);
});

test('a DM gets user_id only; get_chat_info and unknown chats are untouched', async (t) => {
  const h = await startHost((fn) => t.teardown(fn), BUILTINS, identities);
  await inbound(h, dmEvent);
  t.like(await outbound(h, { op: 'react', chat_id: 'd1', message_id: 'm', emoji: '👍' }), {
    kind: 'ok',
    action: { metadata: { user_id: 'u2' } },
    platform: 'telegram',
    botId: 'T1',
  });
  const typing = await outbound(h, { op: 'typing', chat_id: 'd1' });
  t.deepEqual((typing as { action: { metadata: unknown } }).action.metadata, { user_id: 'u2' });
  t.deepEqual(await outbound(h, { op: 'get_chat_info', chat_id: 'd1' }), {
    kind: 'ok',
    action: { op: 'get_chat_info', chat_id: 'd1' },
  });
  t.deepEqual(await outbound(h, { op: 'typing', chat_id: 'nobody' }), {
    kind: 'ok',
    action: { op: 'typing', chat_id: 'nobody', metadata: {} },
  });
});

test('mirrorGuildId false comes from the manifest options', async (t) => {
  const plugins = [
    {
      name: 'scope-reattacher',
      module: builtinModule('scope-reattacher'),
      options: { mirrorGuildId: false },
    },
  ];
  const h = await startHost((fn) => t.teardown(fn), plugins, identities);
  await inbound(h, guildEvent);
  const outcome = await outbound(h, { op: 'send', chat_id: 'c1', content: 'ok' });
  t.deepEqual((outcome as { action: { metadata: unknown } }).action.metadata, {
    scope_id: 'g1',
    user_id: 'u1',
    profile: 'reviewer',
  });
});

test('follow_up: kind from the recorded capability, profile from the key, platform tagged', async (t) => {
  const h = await startHost((fn) => t.teardown(fn), BUILTINS, identities);
  const key = await inbound(h, guildEvent, ['discord.interaction_token']);
  t.is(key, 'agent:reviewer:discord:group:c1:u1');
  t.deepEqual(await outbound(h, { op: 'follow_up', session_key: key, content: 'done' }), {
    kind: 'ok',
    action: {
      op: 'follow_up',
      session_key: key,
      kind: 'discord.interaction_token',
      content: 'done',
      metadata: { profile: 'reviewer' },
    },
    platform: 'discord',
    botId: 'B1',
  });
});

test('follow_up without kind or record ⇒ missing_kind; with a credential ⇒ credential_in_follow_up', async (t) => {
  const h = await startHost((fn) => t.teardown(fn), BUILTINS, identities);
  t.like(await outbound(h, { op: 'follow_up', session_key: 'agent:main:discord:dm:x', content: 'x' }), {
    kind: 'rejected',
    plugin: 'follow-up',
    rejection: { code: 'missing_kind', status: 400 },
  });
  const leaky = {
    op: 'follow_up',
    session_key: 'k',
    kind: 'discord.interaction_token',
    content: 'x',
    metadata: { interaction_token: 'LEAK-42' },
  };
  t.like(await outbound(h, leaky), {
    kind: 'rejected',
    plugin: 'follow-up',
    rejection: { code: 'credential_in_follow_up', status: 400 },
  });
  t.like(await outbound(h, { ...leaky, metadata: {}, Token: 'LEAK-42' }), {
    rejection: { code: 'credential_in_follow_up' },
  });
  t.false(h.rawLogs().includes('LEAK-42'));
  t.false(h.storeBytes().includes('LEAK-42'));
});

test('follow_up is unsupported when the follow-up plugin is disabled', async (t) => {
  const plugins = BUILTINS.map((p) => (p.name === 'follow-up' ? { ...p, enabled: false } : p));
  const h = await startHost((fn) => t.teardown(fn), plugins, identities);
  t.like(h.host.validateAction({ op: 'follow_up', session_key: 'k', content: 'x' }), {
    ok: false,
    status: 422,
    code: 'unsupported_op',
  });
});

test("the project's plugins.json loads the four built-ins by package name", async (t) => {
  const h = await startHost((fn) => t.teardown(fn), join(repoRoot(), 'plugins.json'), identities);
  t.deepEqual(
    h.host.plugins.map((p) => [p.name, p.enabled, p.version]),
    ['scope-reattacher', 'follow-up', 'discord-interaction', 'twilio'].map((name) => [name, true, '1.0.0']),
  );
  t.true(h.host.knownOps().includes('follow_up'));
});
