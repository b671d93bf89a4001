import test from 'ava';
import { DescriptorFrameSchema } from '../../../core/protocol/frames.js';
import {
  DescriptorSchema,
  isStrictBase64,
  LEGACY_OPS,
  MessageEventSchema,
  opAllowed,
  PassthroughForwardSchema,
} from '../../../core/protocol/payloads.js';

const base = {
  contract_version: 1,
  platform: 'discord',
  label: 'Discord',
  max_message_length: 2000,
  supports_draft_streaming: false,
  supports_edit: true,
  supports_threads: true,
  markdown_dialect: 'discord',
  len_unit: 'utf16',
};

test('descriptor: defaults for optional keys, unknown keys dropped', (t) => {
  const d = DescriptorSchema.parse({ ...base, future_key: 1 });
  t.is(d.emoji, '🔌');
  t.is(d.platform_hint, '');
  t.false(d.supports_block_formatting);
  t.deepEqual(d.supported_ops, []);
  t.false('future_key' in d);
  t.is(d.len_unit, 'utf16');
});

test('descriptor: null optional keys (a Python connector writing None) take their defaults', (t) => {
  const nulls = {
    emoji: null,
    platform_hint: null,
    pii_safe: null,
    supports_context: null,
    supports_inchannel_continuable: null,
    supports_block_formatting: null,
    supported_ops: null,
  };
  const d = DescriptorSchema.parse({ ...base, ...nulls });
  t.is(d.emoji, '🔌');
  t.is(d.platform_hint, '');
  t.false(d.pii_safe);
  t.false(d.supports_context);
  t.false(d.supports_inchannel_continuable);
  t.false(d.supports_block_formatting);
  t.deepEqual(d.effective_ops, [...LEGACY_OPS]);
  // a wrong type is still a schema failure
  t.false(DescriptorSchema.safeParse({ ...base, pii_safe: 'yes' }).success);
});

test('event: chat_id and chat_type absent or null take their defaults ("" and dm)', (t) => {
  for (const extra of [{}, { chat_id: null, chat_type: null }]) {
    const e = MessageEventSchema.parse({ text: 'hi', source: { platform: 'telegram', ...extra } });
    t.is(e.source.chat_id, '');
    t.is(e.source.chat_type, 'dm');
  }
  // an exact integer is taken as its decimal string (off-contract ids, decisions.md); other types fail
  t.is(MessageEventSchema.parse({ source: { platform: 'telegram', chat_id: 5 } }).source.chat_id, '5');
  t.false(MessageEventSchema.safeParse({ source: { platform: 'telegram', chat_id: 5.5 } }).success);
  t.false(MessageEventSchema.safeParse({ source: { platform: 'telegram', chat_id: true } }).success);
});

for (const bad of [0, -5, 12.5, '4000', null]) {
  test(`descriptor: max_message_length ${JSON.stringify(bad)} ⇒ 4096`, (t) => {
    t.is(DescriptorSchema.parse({ ...base, max_message_length: bad }).max_message_length, 4096);
  });
}

test('descriptor: unknown len_unit ⇒ chars', (t) => {
  t.is(DescriptorSchema.parse({ ...base, len_unit: 'bytes' }).len_unit, 'chars');
});

test('descriptor: a missing required key fails the schema', (t) => {
  for (const key of Object.keys(base)) {
    const copy: Record<string, unknown> = { ...base };
    delete copy[key];
    t.false(DescriptorSchema.safeParse(copy).success, key);
  }
});

test('descriptor: supported_ops non-list ⇒ empty; non-string/empty entries dropped', (t) => {
  t.deepEqual(DescriptorSchema.parse({ ...base, supported_ops: 'send' }).supported_ops, []);
  t.deepEqual(
    DescriptorSchema.parse({ ...base, supported_ops: ['send', '', 3, null, 'react'] }).supported_ops,
    ['send', 'react'],
  );
});

test('op gating: empty ⇒ legacy set; otherwise exact membership', (t) => {
  const legacy = DescriptorSchema.parse(base);
  for (const op of LEGACY_OPS) t.true(opAllowed(legacy, op));
  t.false(opAllowed(legacy, 'react'));
  t.false(opAllowed(legacy, 'get_chat_info'));
  const exact = DescriptorSchema.parse({ ...base, supported_ops: ['send', 'react'] });
  t.true(opAllowed(exact, 'react'));
  t.false(opAllowed(exact, 'edit'));
});

test('descriptor frame wraps the schema', (t) => {
  t.true(DescriptorFrameSchema.safeParse({ type: 'descriptor', descriptor: base }).success);
  t.false(DescriptorFrameSchema.safeParse({ type: 'descriptor', descriptor: { platform: 'x' } }).success);
});

test('message event: defaults, unknown keys preserved, user_name preference, guild_id compat', (t) => {
  const e = MessageEventSchema.parse({
    extra: { kept: true },
    source: {
      platform: 'discord',
      user_name: 'u',
      user_handle: 'h',
      user_display_name: 'Display',
      guild_id: 'G1',
      x: 1,
    },
  });
  t.is(e.text, '');
  t.is(e.message_type, 'text');
  t.is(e.source.chat_id, '');
  t.is(e.source.chat_type, 'dm');
  t.is(e.source.user_name, 'Display');
  t.is(e.source.scope_id, 'G1');
  t.deepEqual((e as Record<string, unknown>).extra, { kept: true });
  t.is((e.source as Record<string, unknown>).x, 1);
  t.is(MessageEventSchema.parse({ source: { platform: 'p', user_handle: 'h' } }).source.user_name, 'h');
  t.is(
    MessageEventSchema.parse({ source: { platform: 'p', scope_id: 'S', guild_id: 'G' } }).source.scope_id,
    'S',
  );
});

test('message event: user_name takes the first name that is set; an empty one is not a name', (t) => {
  const nameOf = (source: Record<string, unknown>) =>
    MessageEventSchema.parse({ source: { platform: 'slack', ...source } }).source.user_name;
  // Slack's display_name is "" until the user sets one: the real name must not be lost to it
  t.is(nameOf({ user_display_name: '', user_name: 'Alice', user_handle: 'alice' }), 'Alice');
  t.is(nameOf({ user_display_name: '', user_name: '', user_handle: 'alice' }), 'alice');
  t.is(nameOf({ user_display_name: null, user_name: '', user_handle: 'alice' }), 'alice');
  t.is(nameOf({ user_display_name: 'Al', user_name: 'Alice', user_handle: 'alice' }), 'Al');
  // nothing set: an explicit empty name stays what it was, an absent one stays null
  t.is(nameOf({ user_display_name: '', user_name: '' }), '');
  t.is(nameOf({}), null);
});

test('message event: media joined to media_urls by url, not position', (t) => {
  const e = MessageEventSchema.parse({
    media_urls: ['u2', 'u1'],
    media: [
      { url: 'u1', kind: 'image' },
      { url: 'u3', kind: 'audio' },
    ],
    source: { platform: 'p' },
  });
  t.deepEqual(e.media_urls, ['u2', 'u1', 'u3']);
});

test("message event: normalising never touches the caller's object (it works on the parse output)", (t) => {
  const deepFreeze = <T>(v: T): T => {
    if (v && typeof v === 'object') for (const x of Object.values(Object.freeze(v))) deepFreeze(x);
    return v;
  };
  const input = deepFreeze({
    media_urls: ['u2'],
    media: [{ url: 'u1' }],
    source: { platform: 'p', user_handle: 'h', guild_id: 'G' },
  });
  const before = structuredClone(input);
  const e = MessageEventSchema.parse(input);
  t.deepEqual(input, before);
  t.not(e as unknown, input);
  t.not(e.source as unknown, input.source);
  t.is(e.source.user_name, 'h');
  t.deepEqual(e.media_urls, ['u2', 'u1']);
});

test('message event: a missing source fails', (t) => {
  t.false(MessageEventSchema.safeParse({ text: 'x' }).success);
});

test('forward: strings coerced, bad header entries dropped in order, strict base64', (t) => {
  const f = PassthroughForwardSchema.parse({
    platform: 'discord',
    botId: 123,
    method: 'POST',
    path: '/i',
    headers: [['a', 1], ['bad'], 'x', ['b', 'c', 'd'], ['e', 'f']],
    bodyB64: 'aGk=',
  });
  t.is(f.botId, '123');
  // profile is optional, and a string like the others when present
  t.is(PassthroughForwardSchema.parse({ ...f, profile: 7 }).profile, '7');
  t.is(PassthroughForwardSchema.parse({ ...f, profile: null }).profile, null);
  t.false('profile' in PassthroughForwardSchema.parse(f));
  t.deepEqual(f.headers, [
    ['a', '1'],
    ['e', 'f'],
  ]);
  for (const bad of ['aGk', 'a$k=', 'aG=k', 'aGk=\n', '====']) {
    t.false(isStrictBase64(bad), bad);
    t.false(PassthroughForwardSchema.safeParse({ ...f, bodyB64: bad }).success, bad);
  }
  t.true(isStrictBase64(''));
  t.true(isStrictBase64('aGVsbG8gd29ybGQ='));
});

test('a forward body of up to 16 MiB is checked as base64 without a throw (the regexp overflowed past ~4 MiB)', (t) => {
  // 12 MiB of body: base64 of 16 MiB, the relay's payload limit
  for (const mib of [6, 12]) {
    const body = Buffer.alloc(mib * 1024 * 1024, 'a=b&');
    for (const b64 of [
      body.toString('base64'),
      Buffer.concat([body, Buffer.from('\n')]).toString('base64'),
    ]) {
      t.true(isStrictBase64(b64), `${mib} MiB`);
      t.false(isStrictBase64(`${b64.slice(0, -4)}a$k=`), `${mib} MiB, a bad last group`);
    }
  }
  for (const bad of ['aGk', 'a$k=', 'aG=k', 'aGk=\n', '====', 'a===', 'aG==aGk='])
    t.false(isStrictBase64(bad), bad);
});
