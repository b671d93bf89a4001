/** Which keys name a credential (credential-key.ts): the plain ends it takes without the split agree with the split. */
import test from 'ava';
import { isCredentialKey } from '../../../core/protocol/credential-key.js';

/** The rule as the module comment states it, by the full split alone: the reference. */
function byWords(key: string): boolean {
  const w = key
    .slice(-64)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
  const last = w[w.length - 1] ?? '';
  const words = ['token', 'secret', 'password', 'passwd', 'passphrase', 'authorization', 'apikey'];
  if (words.includes(last) || last === 'credential' || last === 'credentials') return true;
  const pairs = ['apikey', 'privatekey', 'secretkey', 'accesskey', 'signingkey'];
  return w.length >= 2 && pairs.includes(`${w[w.length - 2]}${last}`);
}

test('the plain credential ends agree with the word split, on keys of every case and joint', (t) => {
  const ends = [
    'token',
    'Token',
    'TOKEN',
    'tOkEn',
    'secret',
    'Secret',
    'apikey',
    'Credentials',
    'KEY',
    'key',
  ];
  const before = ['', 'k7', 'x', 'X', 'AB', 'aB', 'api', 'API', 'my', '7', 'Private', 'é', 'a'.repeat(70)];
  // the Kelvin sign (U+212A) lowercases to `k`: no separator to the split
  const joints = ['', '_', '-', '.', ' ', '__', '0', '\u212A'];
  let checked = 0;
  for (const head of before)
    for (const joint of joints)
      for (const end of ends)
        for (const after of ['', 's', '_']) {
          const key = `${head}${joint}${end}${after}`;
          t.is(isCredentialKey(key), byWords(key), key);
          checked++;
        }
  t.is(checked, before.length * joints.length * ends.length * 3);
  // the usual spellings, and near misses
  for (const key of ['AuthToken', 'ABToken', 'k7_token', 'API_SECRET', 'client_secret', 'X-Api-Key'])
    t.true(isCredentialKey(key), key);
  for (const key of ['mytoken', 'MYTOKEN', 'k0token', 'Tokens', 'token_type', 'monkey'])
    t.false(isCredentialKey(key), key);
});
