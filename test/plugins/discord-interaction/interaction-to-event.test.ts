import test from 'ava';
import { decodeInteraction } from '../../../plugins/discord-interaction/decode-interaction.js';
import { interactionSource } from '../../../plugins/discord-interaction/interaction-source.js';
import { interactionToEvent } from '../../../plugins/discord-interaction/interaction-to-event.js';

const guildBase = {
  id: 'i1',
  guild_id: 'g1',
  channel_id: 'c1',
  channel: { id: 'c1', type: 0, name: 'general' },
  member: { nick: null, user: { id: 'u1', username: 'nelly', global_name: 'Nelly' } },
};

function eventOf(interaction: Record<string, unknown>, profile?: string) {
  const outcome = interactionToEvent(interaction, profile);
  if (!('event' in outcome)) throw new Error(`dropped: ${outcome.drop}`);
  return outcome.event as Record<string, unknown> & { source: Record<string, unknown> };
}

test('decode: invalid UTF-8, non-JSON and non-objects are problems, never exceptions', (t) => {
  t.deepEqual(decodeInteraction(Buffer.from([0xff, 0xfe, 0x7b])), { ok: false, problem: 'not_utf8' });
  t.deepEqual(decodeInteraction(Buffer.from('{not json')), { ok: false, problem: 'not_json' });
  for (const body of ['[1,2]', '"s"', '3', 'null', 'true']) {
    t.deepEqual(decodeInteraction(Buffer.from(body)), { ok: false, problem: 'not_object' });
  }
});

test('decode: every token key is removed, at any depth, and counted', (t) => {
  const decoded = decodeInteraction(
    Buffer.from(JSON.stringify({ type: 2, token: 'T1', message: { token: 'T2', x: [{ token: 'T3' }] } })),
  );
  if (!decoded.ok) return t.fail();
  t.is(decoded.tokensRemoved, 3);
  t.false(JSON.stringify(decoded.interaction).includes('T'));
});

test('PING and AUTOCOMPLETE are dropped with their reasons; unknown types too', (t) => {
  t.like(interactionToEvent({ type: 1 }), { drop: 'ping' });
  t.like(interactionToEvent({ type: 4, data: { name: 'x' } }), { drop: 'autocomplete' });
  t.like(interactionToEvent({ type: 99 }), { drop: 'unsupported_type' });
  t.like(interactionToEvent({}), { drop: 'malformed' });
  t.like(interactionToEvent({ type: '2' }), { drop: 'malformed' });
});

test('APPLICATION_COMMAND: text, command type, options; a missing name is malformed', (t) => {
  const event = eventOf({
    ...guildBase,
    type: 2,
    data: { name: 'model', type: 1, options: [{ name: 'n', type: 3, value: 'gpt-x' }] },
  });
  t.like(event, { text: '/model gpt-x', message_type: 'command', message_id: 'i1' });
  t.like(interactionToEvent({ ...guildBase, type: 2, data: {} }), { drop: 'malformed' });
});

test('context-menu commands render /name target_id', (t) => {
  t.is(
    eventOf({ ...guildBase, type: 2, data: { name: 'Report', type: 3, target_id: 'm9' } }).text,
    '/Report m9',
  );
  t.is(
    eventOf({ ...guildBase, type: 2, data: { name: 'Profile', type: 2, target_id: 'u7' } }).text,
    '/Profile u7',
  );
});

test('MESSAGE_COMPONENT: custom id; select values appended', (t) => {
  t.like(eventOf({ ...guildBase, type: 3, data: { custom_id: 'show_more', component_type: 2 } }), {
    text: 'show_more',
    message_type: 'text',
  });
  t.is(
    eventOf({ ...guildBase, type: 3, data: { custom_id: 'pick', component_type: 3, values: ['a', 'b'] } })
      .text,
    'pick a b',
  );
  t.like(interactionToEvent({ ...guildBase, type: 3, data: {} }), { drop: 'malformed' });
});

test('hp1 prompt ids become prompt responses with the button label when the message has it', (t) => {
  const message = {
    id: 'm1',
    components: [{ type: 1, components: [{ type: 2, custom_id: 'hp1:p.1:approve', label: 'Approve' }] }],
  };
  const event = eventOf({ ...guildBase, type: 3, data: { custom_id: 'hp1:p.1:approve' }, message });
  t.like(event, { text: '/approve', message_type: 'command' });
  t.deepEqual(event.prompt_response, {
    prompt_id: 'p.1',
    option_id: 'approve',
    prompt_message_id: 'm1',
    label: 'Approve',
  });
  // the label of the button pressed, not of the first button in the message
  const choice = {
    id: 'm2',
    components: [
      {
        type: 1,
        components: [
          { type: 2, custom_id: 'hp1:p.2:approve', label: 'Approve' },
          { type: 2, custom_id: 'hp1:p.2:deny', label: 'Deny' },
        ],
      },
    ],
  };
  const denied = eventOf({ ...guildBase, type: 3, data: { custom_id: 'hp1:p.2:deny' }, message: choice });
  t.like(denied, { text: '/deny', prompt_response: { option_id: 'deny', label: 'Deny' } });
  const noMessage = eventOf({ ...guildBase, type: 3, data: { custom_id: 'hp1:p:o' } });
  t.deepEqual(noMessage.prompt_response, { prompt_id: 'p', option_id: 'o', prompt_message_id: null });
});

test('custom ids that are not exactly hp1:<id>:<id> stay plain components', (t) => {
  for (const id of [
    'hp1:a:b:c',
    'hp1:a',
    'hp1::b',
    `hp1:${'x'.repeat(33)}:b`,
    'hp1:a b:c',
    'hp2:a:b',
    'HP1:a:b',
  ]) {
    const event = eventOf({ ...guildBase, type: 3, data: { custom_id: id } });
    t.is(event.text, id, id);
    t.is(event.prompt_response, undefined);
  }
});

test('MODAL_SUBMIT: custom id then one label-or-custom_id line per input', (t) => {
  const data = {
    custom_id: 'feedback',
    components: [
      { type: 1, components: [{ type: 4, custom_id: 'title', value: 'Great' }] },
      { type: 1, components: [{ type: 4, custom_id: 'body', label: 'Details', value: 'line1\nline2' }] },
      { type: 18, component: { type: 3, custom_id: 'mood', values: ['happy', 'calm'] } },
    ],
  };
  t.like(eventOf({ ...guildBase, type: 5, data }), {
    text: 'feedback\ntitle: Great\nDetails: line1\nline2\nmood: happy, calm',
    message_type: 'text',
  });
});

test('source in a guild channel', (t) => {
  t.deepEqual(
    interactionSource(
      { ...guildBase, member: { nick: 'Nel', user: { id: 'u1', username: 'nelly', bot: true } } },
      'p1',
    ),
    {
      platform: 'discord',
      chat_id: 'c1',
      chat_type: 'group',
      chat_name: 'general',
      user_id: 'u1',
      user_name: 'Nel',
      is_bot: true,
      scope_id: 'g1',
      message_id: 'i1',
      profile: 'p1',
    },
  );
});

test('source in a DM: user at top level, username fallback, no scope', (t) => {
  const source = interactionSource(
    { id: 'i2', channel_id: 'd1', user: { id: 'u2', username: 'bob', global_name: null } },
    undefined,
  );
  t.like(source, {
    chat_id: 'd1',
    chat_type: 'dm',
    user_id: 'u2',
    user_name: 'bob',
    scope_id: null,
    is_bot: false,
    profile: null,
  });
});

test('thread channels (10/11/12) are threads with the parent chat', (t) => {
  for (const type of [10, 11, 12]) {
    const source = interactionSource(
      { ...guildBase, channel_id: 'th1', channel: { id: 'th1', type, parent_id: 'c1' } },
      null,
    );
    t.like(source, {
      chat_type: 'thread',
      chat_id: 'th1',
      thread_id: 'th1',
      parent_chat_id: 'c1',
      scope_id: 'g1',
    });
  }
  t.is(interactionSource({ ...guildBase, channel: { type: 15 } }, null).chat_type, 'group');
});

test('missing channel gives an empty chat id', (t) => {
  t.is(interactionSource({ id: 'x' }, null).chat_id, '');
});

/** Values `String()` cannot convert: `toString`/`valueOf` not callable, arrays nested past the stack. */
const UNCONVERTIBLE: readonly unknown[] = [
  { toString: 1 },
  { valueOf: 'x', toString: 'y' },
  [{ toString: 1 }],
  JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`),
];

test('an option, select or modal value String() cannot convert is skipped, never thrown (found by fuzzing)', (t) => {
  // the plugin threw: CORE_ERR_PLUGIN_THREW, a transient failure retried until maxAttempts
  for (const value of UNCONVERTIBLE) {
    const command = {
      ...guildBase,
      type: 2,
      data: {
        name: 'model',
        options: [
          { name: 'a', type: 3, value },
          { name: 'b', type: 3, value: 'gpt-x' },
        ],
      },
    };
    t.is(eventOf(command).text, '/model gpt-x');
    const select = { ...guildBase, type: 3, data: { custom_id: 'pick', values: [value, 'two'] } };
    t.is(eventOf(select).text, 'pick two');
    const modal = {
      ...guildBase,
      type: 5,
      data: {
        custom_id: 'form',
        components: [
          { type: 1, components: [{ custom_id: 'bad', values: [value] }] },
          { type: 1, components: [{ custom_id: 'ok', value: 'fine' }] },
        ],
      },
    };
    // like an empty select: its line names it with nothing after
    t.is(eventOf(modal).text, 'form\nbad: \nok: fine');
  }
});
