/** follow-up's hooks called directly, sharing one store (the pool test runs them for real). */
import test from 'ava';
import type { Action } from '../../../core/index.js';
import plugin from '../../../plugins/follow-up/index.js';
import { MemoryStore, testContext } from '../plugin-context.js';

const identities = [
  { platform: 'discord', botId: 'B1' },
  { platform: 'slack', botId: 'S1' },
];
const KEY = 'agent:reviewer:discord:group:c1:u1';

async function record(store: MemoryStore, sessionKey: string, capabilities: string[]) {
  const { ctx } = testContext(plugin, { store, identities });
  return plugin.inbound!({ event: { source: { platform: 'discord' } }, sessionKey, capabilities }, ctx);
}

async function send(store: MemoryStore, action: Record<string, unknown>) {
  const { ctx, lines } = testContext(plugin, { store, identities });
  const verdict = await plugin.outbound!.hook(
    { action: { op: 'follow_up', metadata: {}, ...action } as Action },
    ctx,
  );
  return { verdict, lines };
}

test('declares the follow_up op and hooks only it', (t) => {
  t.truthy(plugin.ops?.follow_up);
  t.deepEqual(plugin.outbound?.ops, ['follow_up']);
  t.true(plugin.ops!.follow_up!.safeParse({ op: 'follow_up', session_key: 'k', content: 'x' }).success);
  t.false(plugin.ops!.follow_up!.safeParse({ op: 'follow_up', content: 'x' }).success);
});

test('kind defaults to the recorded capability; profile from the key; platform tagged', async (t) => {
  const store = new MemoryStore();
  await record(store, KEY, ['discord.interaction_token']);
  const { verdict } = await send(store, { session_key: KEY, content: 'done' });
  t.deepEqual(verdict, {
    action: {
      op: 'follow_up',
      session_key: KEY,
      kind: 'discord.interaction_token',
      content: 'done',
      metadata: { profile: 'reviewer' },
    },
    platform: 'discord',
    botId: 'B1',
  });
});

test('agent:main has no profile; an explicit profile is kept; unknown fields are dropped', async (t) => {
  const store = new MemoryStore();
  const { verdict } = await send(store, {
    session_key: 'agent:main:discord:dm:d1',
    kind: 'discord.interaction_token',
    content: 'x',
    extra: 1,
  });
  t.deepEqual((verdict as { action: Action }).action, {
    op: 'follow_up',
    session_key: 'agent:main:discord:dm:d1',
    kind: 'discord.interaction_token',
    content: 'x',
    metadata: {},
  });
  const kept = await send(store, {
    session_key: KEY,
    kind: 'discord.x',
    content: 'x',
    metadata: { profile: 'mine' },
  });
  t.like(kept.verdict, { action: { metadata: { profile: 'mine' } } });
  const tilde = await send(store, {
    session_key: 'agent:main~:discord:dm:d1',
    kind: 'discord.x',
    content: 'x',
  });
  t.like(tilde.verdict, { action: { metadata: { profile: 'main' } } });
});

test('no kind and nothing recorded (or several) ⇒ missing_kind 400', async (t) => {
  const store = new MemoryStore();
  t.like((await send(store, { session_key: KEY, content: 'x' })).verdict, {
    reject: { code: 'missing_kind', status: 400 },
  });
  await record(store, KEY, ['discord.interaction_token', 'discord.other']);
  t.like((await send(store, { session_key: KEY, content: 'x' })).verdict, {
    reject: { code: 'missing_kind', status: 400 },
  });
});

test('a later event without capabilities does not forget them', async (t) => {
  const store = new MemoryStore();
  await record(store, KEY, ['discord.interaction_token']);
  await record(store, KEY, []);
  t.like((await send(store, { session_key: KEY, content: 'x' })).verdict, {
    action: { kind: 'discord.interaction_token' },
  });
});

test('a credential anywhere ⇒ credential_in_follow_up 400, logged by key path, value never', async (t) => {
  const store = new MemoryStore();
  const cases: Record<string, unknown>[] = [
    { token: 'VALUE-1' },
    { interaction_token: 'VALUE-1' },
    { metadata: { Authorization: 'VALUE-1' } },
    { metadata: { nested: { SECRET: 'VALUE-1' } } },
  ];
  for (const extra of cases) {
    const { verdict, lines } = await send(store, {
      session_key: KEY,
      kind: 'discord.interaction_token',
      content: 'x',
      ...extra,
    });
    t.like(verdict, { reject: { code: 'credential_in_follow_up', status: 400 } }, JSON.stringify(extra));
    t.false(JSON.stringify({ verdict, lines }).includes('VALUE-1'));
  }
});

test('a kind for a platform that is not fronted is not tagged', async (t) => {
  const { verdict } = await send(new MemoryStore(), {
    session_key: KEY,
    kind: 'telegram.callback',
    content: 'x',
  });
  t.false('platform' in (verdict as object));
});
