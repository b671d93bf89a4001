/** The credentials a chain task hands its plugins (task-secrets.ts), found in each place they sit. */
import test from 'ava';
import { credentialValues, redactPluginText, taskSecrets } from '../../../core/plugin-host/task-secrets.js';
import { convert, readAlike, TOKEN } from './budget-readings.js';

test('a JSON body, a form, a broken body, headers and the query each give their credentials', (t) => {
  t.deepEqual(taskSecrets(convert(JSON.stringify({ data: { token: TOKEN }, id: '123456789' }))), [TOKEN]);
  t.deepEqual(taskSecrets(convert(`From=%2B1555&AuthToken=${TOKEN}`)), [TOKEN]);
  t.deepEqual(taskSecrets(convert(`{"type":2,"token":"${TOKEN}","data":{`)), [TOKEN]);
  t.deepEqual(taskSecrets(convert('{}', { headers: [['Authorization', `Bot ${TOKEN}`]] })), [
    `Bot ${TOKEN}`,
    TOKEN,
  ]);
  t.deepEqual(taskSecrets(convert('{}', { path: `/hook?x=1&api_key=${TOKEN}` })), [TOKEN]);
  // a signature's timestamp is no credential: its number stays in the plugin's words
  const signed = convert('{}', {
    headers: [
      ['x-signature-ed25519', TOKEN],
      ['x-signature-timestamp', '1700000000'],
    ],
  });
  t.deepEqual(taskSecrets(signed), [TOKEN]);
  // a header named as a credential by the rule of body keys (`access key`, `passphrase`)
  for (const name of ['X-Access-Key', 'X-Private-Key', 'Passphrase', 'X-Client-Credentials', 'X-Signing-Key'])
    t.true(taskSecrets(convert('{}', { headers: [[name, TOKEN]] })).includes(TOKEN), name);
  // short values and non-credential keys are not searched for
  t.deepEqual(taskSecrets(convert(JSON.stringify({ token: 'abc', text: TOKEN }))), []);
});

test('a body larger than the search bound still gives the credentials at its start', (t) => {
  // 2 MiB of JSON: cut at the bound, parsed as the broken body it then is
  const big = JSON.stringify({ token: TOKEN, filler: 'x'.repeat(2 * 1024 * 1024) });
  t.deepEqual(taskSecrets(convert(big)), [TOKEN]);
});

test('events, actions and options give the strings under their credential keys', (t) => {
  const action = { op: 'send', chat_id: 'c', content: 'x', metadata: { nested: { clientSecret: TOKEN } } };
  t.deepEqual(taskSecrets({ k: 'outbound', chain: [0], input: { action } } as never), [TOKEN]);
  t.deepEqual(credentialValues({ apiKey: TOKEN, retries: 3, debug: true }), [TOKEN]);
  t.is(redactPluginText(`key ${TOKEN}.`, [TOKEN]), 'key [redacted].');
});

test('a body of many credential-named values cannot crowd out a later real token', (t) => {
  // 40 decoys before the real token (the search kept the first 32 values it met)
  const decoys = Object.fromEntries(
    Array.from({ length: 40 }, (_, i) => [`k${i}_token`, `decoy-value-${i}-xx`]),
  );
  for (const body of [
    JSON.stringify({ ...decoys, data: { token: TOKEN } }),
    `${new URLSearchParams(decoys)}&AuthToken=${TOKEN}`,
    `${JSON.stringify({ ...decoys, token: TOKEN }).slice(0, -1)},"more":`,
  ]) {
    const secrets = taskSecrets(convert(body));
    t.true(secrets.includes(TOKEN), body.slice(0, 40));
    t.is(redactPluginText(`interaction ${TOKEN} expired`, secrets), 'interaction [redacted] expired');
  }
  // headers too: decoy credential headers before the real one
  const headers: [string, string][] = Array.from({ length: 40 }, (_, i) => [
    `x-${i}-token`,
    `decoy-header-${i}`,
  ]);
  const secrets = taskSecrets(convert('{}', { headers: [...headers, ['authorization', `Bot ${TOKEN}`]] }));
  t.true(secrets.includes(TOKEN));
});

test('a body of more keys than the search looks at cannot crowd out a later real token either', (t) => {
  // 5 000 keys (the search's budget is 4 096), then the token
  const filler = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f${i}`, i]));
  for (const body of [
    JSON.stringify({ ...filler, data: { interaction_token: TOKEN } }),
    `${new URLSearchParams(filler as never)}&AuthToken=${TOKEN}`,
  ]) {
    const secrets = taskSecrets(convert(body));
    t.is(
      redactPluginText(`interaction ${TOKEN} expired`, secrets),
      'interaction [redacted] expired',
      body.slice(-60),
    );
  }
});

test('a key written with escapes is found past the budget of keys as within it', (t) => {
  // `to\u006ben` is `token` to any reader of the JSON, `to%6Ben` to any reader of the form
  const filler = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f${i}`, i]));
  const json = JSON.stringify({ ...filler, data: { placeholder: TOKEN } });
  const form = `${new URLSearchParams(filler as never)}&Auth%54oken=${TOKEN}`;
  for (const body of [
    json.replace('"placeholder"', '"to\\u006ben"'),
    json.replace('"placeholder"', '"interaction_\\u0054OKEN"'),
    json.replace('"placeholder"', '"a\\/b_token"'),
    form,
    // within the budget, a broken body read by its quoted pairs
    `{"type":2,"to\\u006ben":"${TOKEN}","data":{`,
  ]) {
    const secrets = taskSecrets(convert(body));
    t.is(
      redactPluginText(`interaction ${TOKEN} expired`, secrets),
      'interaction [redacted] expired',
      body.slice(-80),
    );
  }
});

test('past the budget, a form is read on from the field the walk stopped at: none is skipped', (t) => {
  // the walk reads 4 096 fields; the pass past the budget starts at the next one
  for (const at of [4_094, 4_095, 4_096, 4_097]) {
    const fields = Array.from({ length: 5_000 }, (_, i) => (i === at ? `token=${TOKEN}` : `f${i}=${i}`));
    const secrets = taskSecrets(convert(fields.join('&')));
    t.true(secrets.includes(TOKEN), `token in field ${at}`);
  }
});

test('a long credential key is found past the budget of keys as within it', (t) => {
  // the rule reads a key's last words: its length does not matter to the walk, nor now to the pass
  const filler = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`f${i}`, i]));
  const key = `${'x'.repeat(100)}_token`;
  for (const body of [
    JSON.stringify({ ...filler, [key]: TOKEN }),
    `${new URLSearchParams(filler as never)}&${key}=${TOKEN}`,
    // within the budget, a broken body read by its quoted pairs
    `{"type":2,"${key}":"${TOKEN}","data":{`,
  ]) {
    t.true(taskSecrets(convert(body)).includes(TOKEN), body.slice(-60));
  }
});

test('a key whose k is the Kelvin sign is found past the budget of keys as within it', (t) => {
  // U+212A lowercases to `k`: the walk's isCredentialKey reads `to\u212Aen` as `token`
  readAlike(t, [
    ['"to\\u212Aen"', 'to%E2%84%AAen'],
    ['"to\u212Aen"', 'to\u212Aen'],
    ['"api_\\u212aey"', 'api_%e2%84%aaey'],
  ]);
});

test('a key with separators after its credential word is found past the budget of keys as within it', (t) => {
  // the rule reads `token_` or `Token-` as ending in the word `token`: the walk finds them
  readAlike(t, [
    ['"token_"', 'token_'],
    ['"Token- "', 'Token+'],
    ['"api_key\\u005f"', 'api_key%20'],
    ['"secret.\\/"', 'secret.%2D'],
  ]);
});

test('a credential nested deeper than the walk goes is found in a body as past the budget of keys', (t) => {
  // the walk stops at 32 levels (a hostile body may nest far deeper); the pass reads any depth
  for (const depth of [32, 33, 40, 200]) {
    const body = `${'{"a":'.repeat(depth)}{"interaction_token":"${TOKEN}"}${'}'.repeat(depth)}`;
    t.true(taskSecrets(convert(body)).includes(TOKEN), `at depth ${depth}`);
    t.true(
      taskSecrets(convert(`${'['.repeat(depth)}{"token":"${TOKEN}"}${']'.repeat(depth)}`)).includes(TOKEN),
    );
  }
});

test('a credential value longer than 4 096 characters is found past the budget of keys as within it', (t) => {
  // a private key's PEM: 5 000 characters, its newlines escaped in the JSON
  const pem = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n'.repeat(150)}-----END PRIVATE KEY-----`;
  const filler = JSON.stringify(
    Object.fromEntries(Array.from({ length: 4_200 }, (_, i) => [`f${i}`, `v-${i}-filler`])),
  );
  const pair = `"private_key":${JSON.stringify(pem)}`;
  for (const [where, body] of [
    ['within', `{${pair}}`],
    ['past', `${filler.slice(0, -1)},${pair}}`],
    ['broken within', `{"type":2,${pair},"data":{`],
    ['broken past', `${filler.slice(0, -1)},${pair},"data":{`],
  ] as const)
    t.true(taskSecrets(convert(body)).includes(pem), where);
});

/** Form fields enough to spend the budget of keys (4 096), each followed by `&`. */
const FORM_FILLER = `${new URLSearchParams(Object.fromEntries(Array.from({ length: 4_200 }, (_, i) => [`f${i}`, `${i}`])))}&`;

test('a form is read as URLSearchParams reads it, a `%` starting no escape kept', (t) => {
  // twilio's reader: `Auth%54oken%` is `AuthToken%`, a value `…%41%ZZ` is `…A%ZZ`; a strict
  // decoding refused both and read them as written, so the plugin's view kept the token
  for (const field of [
    `Auth%54oken%=${TOKEN}`,
    `AuthToken=${TOKEN}%41%ZZ`,
    `api_key=%ZZ${TOKEN}`,
    `token=${TOKEN}%C3%41`,
  ])
    for (const [where, body] of [
      ['within', `From=%2B1555&${field}`],
      ['past', `${FORM_FILLER}${field}`],
    ] as const) {
      const seen = [...new URLSearchParams(body).values()].at(-1) ?? '';
      const redacted = redactPluginText(`plugin saw ${seen}`, taskSecrets(convert(body)));
      t.false(redacted.includes(TOKEN), `${field.split('=')[0]} ${where}: the value stayed`);
    }
});

test('a form field with characters past ASCII and bytes that are no UTF-8 is read as the plugin reads it', (t) => {
  // the plugin's reader is this runtime's URLSearchParams (twilio's): on Node 20 such a field's
  // other characters are cut to their low byte (`\u00e9%C3` is two U+FFFD, `\u016B` a `k`), which
  // the standard's decoding, used before, did not give, so the value the plugin saw stayed whole
  const fields = [`AuthToken=${TOKEN}\u00e9%C3`, `token=\u212A%C3${TOKEN}`, `api_key=%41\u00e9${TOKEN}%ZZ`];
  const cases = [
    ...fields.flatMap((field) => [
      ['within', field, `From=%2B1555&${field}`],
      ['past', field, `${FORM_FILLER}${field}`],
    ]),
    // a name the plugin reads as `token\uFFFD`: within the budget only (credential-pairs.ts)
    ['within', 'to\u016Ben%C3', `From=%2B1555&to\u016Ben%C3=${TOKEN}`],
  ] as const;
  for (const [where, field, body] of cases) {
    const seen = [...new URLSearchParams(body).values()].at(-1) ?? '';
    const redacted = redactPluginText(`plugin saw ${seen}`, taskSecrets(convert(body)));
    t.false(redacted.includes(TOKEN), `${field.split('=')[0]} ${where}: the value stayed`);
  }
});

test("a key-like segment of the forward's path is a credential the task hands over, as it came and decoded", (t) => {
  // a provider's `/hooks/<secret>`: a plugin quoting it without its slash left it in its words
  const key = 'Xy9_kLmN0pQr-StUv1WxYz2AbCdEfGh3IjKl';
  t.deepEqual(taskSecrets(convert('{}', { path: `/hooks/${key};v=1?a=1` })), [key]);
  const b64 = 'aW50ZXJhY3Rpb246+MTIz/NDU2Nzg5OkxFQUtFRFRPS0VO==';
  const found = taskSecrets(convert('{}', { path: `/hooks/${encodeURIComponent(b64)}` }));
  t.true(found.includes(b64) && found.includes(encodeURIComponent(b64)), found.join(' '));
  t.deepEqual(redactPluginText(`unknown hook ${b64}`, found), 'unknown hook [redacted]');
  // a key after a delimiter within its segment: Telegram's `/<bot id>:<token>`
  const bot = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
  t.deepEqual(taskSecrets(convert('{}', { path: `/123456789:${bot}` })), [bot]);
  // ids and words are no keys; a path of more key-like segments than the search takes is bounded
  t.deepEqual(taskSecrets(convert('{}', { path: '/interactions/discord/987654321098765432' })), []);
  const many = Array.from({ length: 10_000 }, (_, i) => `/Ab1Cd2Ef3Gh4Ij5Kl6Mn${i}`).join('');
  t.true(taskSecrets(convert('{}', { path: many })).length <= 4_096);
  // past the path's first 256 KiB: cut at a `/`, a segment is never taken by its start alone
  const far = `/${'a'.repeat(300 * 1024)}/${key}`;
  t.deepEqual(taskSecrets(convert('{}', { path: far })), []);
  t.deepEqual(taskSecrets(convert('{}', { path: `/x/${key}${'Q'.repeat(300 * 1024)}` })), []);
  // was: nothing — a long query holding no `/` (a percent-encoded payload) put the cut before
  // the key's segment, which ended far within the bound
  const payload = encodeURIComponent(`{"text":"${'a/b '.repeat(100 * 1024)}"}`);
  t.deepEqual(taskSecrets(convert('{}', { path: `/hooks/${key}?payload=${payload}` })), [key]);
  t.deepEqual(taskSecrets(convert('{}', { path: `/hooks/${key}:run?p=${payload}` })), [key]);
});
