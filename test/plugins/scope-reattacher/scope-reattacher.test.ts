/** scope-reattacher's hooks called directly, sharing one store (the pool test runs them for real). */
import test from 'ava';
import type { Action } from '../../../core/index.js';
import plugin from '../../../plugins/scope-reattacher/index.js';
import { MemoryStore, testContext } from '../plugin-context.js';

const identities = [{ platform: 'discord', botId: 'B1' }];
const groupEvent = {
  text: 'hi',
  source: {
    platform: 'discord',
    chat_id: 'c1',
    chat_type: 'group',
    scope_id: 'g1',
    user_id: 'u1',
    profile: 'p1',
  },
};

async function outbound(store: MemoryStore, action: Action, options: unknown = {}) {
  const { ctx } = testContext(plugin, { store, identities, options });
  return plugin.outbound!.hook({ action }, ctx);
}

async function inbound(store: MemoryStore, event: Record<string, unknown>, options: unknown = {}) {
  const { ctx } = testContext(plugin, { store, identities, options });
  return plugin.inbound!({ event, sessionKey: 'k', capabilities: [] }, ctx);
}

test('an event is remembered and re-attached to a send for the same chat', async (t) => {
  const store = new MemoryStore();
  t.is(await inbound(store, groupEvent), undefined);
  const verdict = await outbound(store, {
    op: 'send',
    chat_id: 'c1',
    content: 'x',
    reply_to: null,
    metadata: {},
  });
  t.deepEqual(verdict, {
    action: {
      op: 'send',
      chat_id: 'c1',
      content: 'x',
      reply_to: null,
      metadata: { scope_id: 'g1', user_id: 'u1', profile: 'p1', guild_id: 'g1' },
    },
    platform: 'discord',
    botId: 'B1',
  });
});

test('last seen wins', async (t) => {
  const store = new MemoryStore();
  await inbound(store, groupEvent);
  await inbound(store, { source: { ...groupEvent.source, user_id: 'u2', profile: 'p2' } });
  const verdict = await outbound(store, { op: 'typing', chat_id: 'c1', metadata: {} });
  t.like(verdict, { action: { metadata: { user_id: 'u2', profile: 'p2' } } });
});

test('an unchanged memory is not rewritten on every event; a change is written at once', async (t) => {
  let now = 1_000;
  const store = new MemoryStore(() => now);
  await inbound(store, groupEvent, { ttlMs: 1_000 });
  now += 400;
  await inbound(store, groupEvent, { ttlMs: 1_000 });
  t.is(store.writes, 1);
  await inbound(store, { source: { ...groupEvent.source, user_id: 'u2' } }, { ttlMs: 1_000 });
  t.is(store.writes, 2);
  // still seen ⇒ still remembered, past the first TTL
  for (let i = 0; i < 6; i++) {
    now += 300;
    await inbound(store, { source: { ...groupEvent.source, user_id: 'u2' } }, { ttlMs: 1_000 });
  }
  t.like(await outbound(store, { op: 'typing', chat_id: 'c1', metadata: {} }), {
    action: { metadata: { user_id: 'u2' } },
  });
  // the slack of a 1 s TTL is half of it
  t.true(store.writes >= 3 && store.writes <= 5, `refreshed about once per half TTL: ${store.writes}`);
});

test('a chat seen again keeps its memory ttlMs after that event, even when nothing was written', async (t) => {
  const day = 24 * 3_600_000;
  let now = 1_000;
  const store = new MemoryStore(() => now);
  await inbound(store, groupEvent); // default ttlMs: 7 days
  now += 3 * day;
  await inbound(store, groupEvent);
  now += 7 * day - 1; // quiet since: 7 days less 1 ms
  t.like(await outbound(store, { op: 'typing', chat_id: 'c1', metadata: {} }), {
    action: { metadata: { user_id: 'u1' } },
  });
});

test('follow_up and get_chat_info are not chat-addressed: untouched', async (t) => {
  const store = new MemoryStore();
  await inbound(store, groupEvent);
  t.is(await outbound(store, { op: 'get_chat_info', chat_id: 'c1' }), undefined);
  t.is(await outbound(store, { op: 'follow_up', session_key: 'k', content: 'x', metadata: {} }), undefined);
});

test('an op without a chat (plugin-defined) is left exactly as it is', async (t) => {
  const store = new MemoryStore();
  await inbound(store, groupEvent);
  t.is(await outbound(store, { op: 'custom_ping', target: 'c1' }), undefined);
  t.is(await outbound(store, { op: 'custom_ping', chat_id: '', metadata: { scope_id: 's' } }), undefined);
});

test('an unknown chat gets no tags and no metadata', async (t) => {
  const verdict = await outbound(new MemoryStore(), {
    op: 'send',
    chat_id: 'other',
    content: 'x',
    metadata: { a: 1 },
  });
  t.deepEqual(verdict, { action: { op: 'send', chat_id: 'other', content: 'x', metadata: { a: 1 } } });
});

test('memory expires after ttlMs and its slack', async (t) => {
  let now = 1_000;
  const store = new MemoryStore(() => now);
  await inbound(store, groupEvent, { ttlMs: 50 });
  // lives ttlMs, plus remember's slack (half of so short a TTL)
  now += 50 + 25 - 1;
  t.like(await outbound(store, { op: 'send', chat_id: 'c1', content: 'x', metadata: {} }), {
    platform: 'discord',
  });
  now += 1;
  t.deepEqual(await outbound(store, { op: 'send', chat_id: 'c1', content: 'x', metadata: {} }), {
    action: { op: 'send', chat_id: 'c1', content: 'x', metadata: {} },
  });
});

test('options are strict and validated', (t) => {
  t.false(plugin.options!.safeParse({ ttlMs: -1 }).success);
  t.false(plugin.options!.safeParse({ mirror: true }).success);
  t.deepEqual(plugin.options!.parse({}), { ttlMs: 7 * 24 * 3600 * 1000, mirrorGuildId: true });
});
