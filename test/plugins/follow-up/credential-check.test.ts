import test from 'ava';
import { isCredentialKey } from '../../../core/index.js';
import { findCredentialPath } from '../../../plugins/follow-up/credential-check.js';
import { chooseKind, platformOfKind } from '../../../plugins/follow-up/follow-up-action.js';

test('credential-looking keys, case-insensitive', (t) => {
  for (const key of [
    'token',
    'Token',
    'TOKEN',
    'interaction_token',
    'Access_Token',
    'x-token',
    'authorization',
    'Authorization',
    'secret',
    'client_secret',
    'accessToken',
    'clientSecret',
    // the dead letters' rule, shared since: passwords and keys too
    'password',
    'api_key',
    'X-Api-Key',
    'privateKey',
  ]) {
    t.true(isCredentialKey(key), key);
  }
  for (const key of [
    'session_key',
    'kind',
    'content',
    'tokens',
    'max_tokens',
    'tokenizer',
    'secretary',
    'author',
    'token_count',
  ]) {
    t.false(isCredentialKey(key), key);
  }
});

test('found at any depth, in objects and arrays, with its path; values are never inspected', (t) => {
  t.is(findCredentialPath({ op: 'follow_up', token: 'x' }), 'token');
  t.is(
    findCredentialPath({ metadata: { embed: { Authorization: 'Bearer x' } } }),
    'metadata.embed.Authorization',
  );
  t.is(
    findCredentialPath({ metadata: { list: [{ ok: 1 }, { bot_token: 'x' }] } }),
    'metadata.list.1.bot_token',
  );
  t.is(findCredentialPath({ content: 'my token is secret', metadata: { note: 'token' } }), undefined);
  t.is(findCredentialPath(null), undefined);
});

test('a structure deeper than the bound is refused (fail closed)', (t) => {
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 40; i += 1) deep = { n: deep };
  t.truthy(findCredentialPath(deep));
});

test('kind: explicit wins, else the single recorded one, else a problem', (t) => {
  t.deepEqual(chooseKind('slack.response_url', ['discord.interaction_token']), {
    kind: 'slack.response_url',
  });
  t.deepEqual(chooseKind(undefined, ['discord.interaction_token']), { kind: 'discord.interaction_token' });
  t.deepEqual(chooseKind(undefined, undefined), { problem: 'none' });
  t.deepEqual(chooseKind(undefined, []), { problem: 'none' });
  t.deepEqual(chooseKind(undefined, 'garbage'), { problem: 'none' });
  t.deepEqual(chooseKind(undefined, ['a.b', 'c.d']), { problem: 'ambiguous' });
});

test('platform of a kind is its prefix before the first dot', (t) => {
  t.is(platformOfKind('discord.interaction_token'), 'discord');
  t.is(platformOfKind('a.b.c'), 'a');
  t.is(platformOfKind('nodot'), undefined);
  t.is(platformOfKind('.x'), undefined);
});
