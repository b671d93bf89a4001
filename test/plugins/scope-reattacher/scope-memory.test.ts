import test from 'ava';
import { frameTags, reattachMetadata } from '../../../plugins/scope-reattacher/reattach.js';
import { memoryFromEvent, parseMemory } from '../../../plugins/scope-reattacher/scope-memory.js';

const group = { platform: 'discord', scope_id: 'g1', user_id: 'u1', profile: 'p1', chat_type: 'group' };
const on = { mirrorGuildId: true };

test('memory from an event: the five fields, only when known', (t) => {
  const event = {
    source: {
      platform: 'discord',
      chat_id: 'c1',
      chat_type: 'group',
      scope_id: 'g1',
      user_id: 'u1',
      profile: 'p1',
      user_name: 'x',
    },
  };
  t.deepEqual(memoryFromEvent(event), { chatId: 'c1', memory: group });
  t.deepEqual(memoryFromEvent({ source: { platform: 'sms', chat_id: '+1', scope_id: null } }), {
    chatId: '+1',
    memory: { platform: 'sms' },
  });
});

test('no chat id, no memory; platform relay is not remembered; guild_id is the compat scope', (t) => {
  t.is(memoryFromEvent({ source: { platform: 'discord', chat_id: '' } }), undefined);
  t.is(memoryFromEvent({ text: 'no source' }), undefined);
  t.deepEqual(memoryFromEvent({ source: { platform: 'relay', chat_id: 'c', guild_id: 'g9' } })?.memory, {
    scope_id: 'g9',
  });
});

test('stored garbage reads as unknown', (t) => {
  t.is(parseMemory('x'), undefined);
  t.is(parseMemory({ scope_id: 5 }), undefined);
  t.deepEqual(parseMemory(group), group);
});

test('fills absent and falsy metadata, mirrors the guild, never overwrites', (t) => {
  t.deepEqual(reattachMetadata({}, group, on), {
    scope_id: 'g1',
    user_id: 'u1',
    profile: 'p1',
    guild_id: 'g1',
  });
  t.deepEqual(reattachMetadata({ scope_id: '', user_id: null, profile: 0 }, group, on), {
    scope_id: 'g1',
    user_id: 'u1',
    profile: 'p1',
    guild_id: 'g1',
  });
  t.deepEqual(
    reattachMetadata({ scope_id: 'mine', user_id: 'me', profile: 'pp', guild_id: 'gg', x: 1 }, group, on),
    {
      scope_id: 'mine',
      user_id: 'me',
      profile: 'pp',
      guild_id: 'gg',
      x: 1,
    },
  );
});

test('the guild mirror follows an explicit scope and can be switched off', (t) => {
  t.is(reattachMetadata({ scope_id: 'mine' }, group, on).guild_id, 'mine');
  t.false('guild_id' in reattachMetadata({}, group, { mirrorGuildId: false }));
  t.deepEqual(reattachMetadata({ scope_id: 's' }, undefined, on), { scope_id: 's', guild_id: 's' });
  t.deepEqual(reattachMetadata({}, undefined, on), {});
});

test('a DM gets user_id only', (t) => {
  const dm = { platform: 'discord', scope_id: 'g1', user_id: 'u1', profile: 'p1', chat_type: 'dm' };
  t.deepEqual(reattachMetadata({}, dm, on), { user_id: 'u1' });
});

test('the input metadata is not mutated', (t) => {
  const metadata = Object.freeze({ a: 1 });
  reattachMetadata(metadata, group, on);
  t.deepEqual(metadata, { a: 1 });
});

test('frame tags: platform from memory; botId only for a hello-d identity; chosen tags kept', (t) => {
  const identities = [
    { platform: 'discord', botId: 'B1' },
    { platform: 'slack', botId: '' },
  ];
  t.deepEqual(frameTags(group, identities, {}), { platform: 'discord', botId: 'B1' });
  t.deepEqual(frameTags({ platform: 'sms' }, identities, {}), { platform: 'sms' });
  t.deepEqual(frameTags({ platform: 'slack' }, identities, {}), { platform: 'slack', botId: '' });
  t.deepEqual(frameTags(group, identities, { platform: 'slack' }), { platform: 'slack', botId: '' });
  t.deepEqual(frameTags(undefined, identities, {}), {});
  t.deepEqual(frameTags({}, identities, {}), {});
});
