import test from 'ava';
import { profileOfSessionKey, type SessionSource, sessionKey } from '../../../core/protocol/session-key.js';
import { loadSharedFixture } from '../../helpers/shared-fixtures.js';

interface Row {
  source: SessionSource;
  options?: { groupSessionsPerUser?: boolean; threadSessionsPerUser?: boolean };
  session_key: string;
}

const rows = loadSharedFixture<Row[]>('session-keys.json');

test('the fixture has rows', (t) => {
  t.true(rows.length >= 16);
});

for (const [i, row] of rows.entries()) {
  test(`fixtures/session-keys.json #${i}: ${row.session_key}`, (t) => {
    t.is(sessionKey(row.source, row.options), row.session_key);
  });
}

test('profile round-trips through the namespace', (t) => {
  t.is(profileOfSessionKey('agent:main:discord:dm:1'), undefined);
  t.is(profileOfSessionKey('agent:main~:discord:dm:1'), 'main');
  t.is(profileOfSessionKey('agent:reviewer:discord:dm:1'), 'reviewer');
  t.is(profileOfSessionKey('bogus'), undefined);
});
