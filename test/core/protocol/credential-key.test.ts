/** Which keys name a credential (credential-key.ts): the plain ends and the ASCII scan it takes without the split agree with the split. */
import test from 'ava';
import { isCredentialKey } from '../../../core/protocol/credential-key.js';

/** The rule as the module comment states it, by the full split alone: the reference. */
function byWords(key: string): boolean {
  const w = key
    // the last 64 characters, a run of separators taken for one (the split's reading of it)
    .replace(/[^A-Za-z0-9\u212A\u0130]{2,}/g, '_')
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

test('the scan of the last two words agrees with the word split, on every short join of pieces', (t) => {
  // two-word names, every case, digits, every separator, camelCase humps, and characters the
  // split lowercases to ASCII (the Kelvin sign to `k`, `İ` to `i` and a dot) or to a separator
  const pieces = [
    'api',
    'Api',
    'API',
    'aPI',
    'key',
    'Key',
    'KEY',
    'kEy',
    'token',
    'Token',
    'tOkEn',
    'Private',
    'PRIVATE',
    'signing',
    'x',
    'X',
    'Y',
    '0',
    '7',
    '_',
    '-',
    '.',
    ' ',
    '%',
    'é',
    '\u212A',
    '\u0130',
  ];
  let checked = 0;
  const check = (key: string): void => {
    if (isCredentialKey(key) !== byWords(key)) t.fail(JSON.stringify(key));
    checked++;
  };
  for (const a of ['', ...pieces])
    for (const b of ['', ...pieces])
      for (const c of pieces) {
        check(`${a}${b}${c}`);
        // cut at 64 characters inside or before the words read
        check(`${'Ab'.repeat(30)}${a}${b}${c}`);
      }
  // characters one by one, from a fixed seed: humps and joints the pieces do not make
  const chars = 'aAkKyYpPiI09_-. é\u212A';
  let seed = 7;
  for (let n = 0; n < 20_000; n++) {
    let key = '';
    const length = 1 + (n % 12);
    for (let i = 0; i < length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      key += chars[seed % chars.length];
    }
    check(`${key}${['', 'key', 'Key', 'token', 'Token'][n % 5]}`);
  }
  t.is(checked, 2 * (pieces.length + 1) ** 2 * pieces.length + 20_000);
});

test('a run of separators does not hide the last words past 64 characters', (t) => {
  // the rule reads the last word whatever comes after it: the cut at 64 characters made
  // `token` and 60 underscores read as `oken`, and `api`, 61 dashes and `key` as `key` alone
  for (const key of [
    'token'.padEnd(65, '_'),
    `api${'-'.repeat(61)}key`,
    `api_${'é'.repeat(60)}Key`,
    `${'x'.repeat(70)}_Token${' .'.repeat(40)}`,
  ])
    t.true(isCredentialKey(key), `${key.length} characters`);
  for (const key of [
    `tokens${'_'.repeat(70)}`,
    `${'x'.repeat(70)}${'_'.repeat(70)}key`,
    `mytoken${'-'.repeat(70)}`,
  ])
    t.false(isCredentialKey(key), `${key.length} characters`);
});
