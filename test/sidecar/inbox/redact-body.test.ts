/**
 * What a dead letter keeps of a forward body (spec/plugins.md: an interaction token must never
 * reach the inbox): JSON loses its credential keys, a BOM is skipped as the plugins skip it, a
 * body that is not JSON (cut off, broken) keeps its bytes but not its credential values, and a
 * body that cannot be searched is not kept at all.
 */
import test from 'ava';
import { isCredentialKey } from '../../../core/protocol/credential-key.js';
import { BODY_OMITTED, redactBody, redactFrame } from '../../../sidecar/inbox/redact-frame.js';
import { hasSecretPair, REDACTED_VALUE, redactSecretPairs } from '../../../sidecar/inbox/redact-text.js';

const SECRET = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmZha2V0b2tlbg';

const b64 = (bytes: string | Buffer) =>
  (typeof bytes === 'string' ? Buffer.from(bytes) : bytes).toString('base64');
const stored = (body: { bodyB64: string }) => Buffer.from(body.bodyB64, 'base64');

test('a JSON body loses its credential keys at any depth, and nothing else', (t) => {
  const body = redactBody(b64(JSON.stringify({ type: 2, token: SECRET, data: { name: 'x', secret: 'y' } })));
  t.deepEqual(JSON.parse(stored(body).toString()), { type: 2, data: { name: 'x' } });
  t.false('omitted' in body);
  // every credential key name, six levels down, inside arrays too
  const deep = {
    a: [{ b: { c: [{ d: { token: SECRET, password: 'p', api_key: 'k', apiKey: 'K', keep: 1 } }] } }],
  };
  const redacted = redactBody(b64(JSON.stringify(deep)));
  t.deepEqual(JSON.parse(stored(redacted).toString()), { a: [{ b: { c: [{ d: { keep: 1 } }] } }] });
});

test('a body with a UTF-8 BOM is read as the plugin reads it: JSON, token removed', (t) => {
  const bytes = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(JSON.stringify({ type: 99, token: SECRET, id: '1' })),
  ]);
  const body = redactBody(b64(bytes));
  t.false(stored(body).toString('latin1').includes(SECRET));
  // what the discord plugin's decoder makes of the stored body
  const decoded = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(stored(body)));
  t.deepEqual(decoded, { type: 99, id: '1' });
});

test('a body cut off inside the token keeps everything before the value', (t) => {
  const text = `{"type":2,"id":"1","token":"${SECRET}`;
  for (const cut of [text, text.slice(0, -10), `{"type":2,"token": "`]) {
    const body = redactBody(b64(cut));
    const kept = stored(body).toString();
    t.false(kept.includes(SECRET.slice(0, 8)), cut);
    t.true(kept.endsWith(`"token":${REDACTED_VALUE}`) || kept.endsWith(`"token": ${REDACTED_VALUE}`), kept);
    t.false('omitted' in body);
  }
});

test('a body cut off after the token keeps the rest verbatim, the value replaced', (t) => {
  const body = redactBody(b64(`{"token":"${SECRET}","data":{"name":"deploy","options":[{"va`));
  t.is(stored(body).toString(), `{"token":${REDACTED_VALUE},"data":{"name":"deploy","options":[{"va`);
});

test('the text scan: strings, objects and scalars as values, escaped keys, credential key names', (t) => {
  const cases: [string, string][] = [
    [`{"secret": {"a": "}", "b": [1, 2]}, "x": 1`, `{"secret": ${REDACTED_VALUE}, "x": 1`],
    [`{"password": [1, {"p": "q"`, `{"password": ${REDACTED_VALUE}`],
    [`{"api_key": 12345, "n": 1`, `{"api_key": ${REDACTED_VALUE}, "n": 1`],
    [`{"\\u0074oken": "${SECRET}", "n": 1`, `{"\\u0074oken": ${REDACTED_VALUE}, "n": 1`],
    [
      `{"text": "say \\"hi\\"", "apiKey":"k\\"ey", "n`,
      `{"text": "say \\"hi\\"", "apiKey":${REDACTED_VALUE}, "n`,
    ],
    // a credential word last makes a credential key; not last, or in the plural, it does not
    [
      `{"my_token": "v", "tokens": "w", "token_type": "x", "tok`,
      `{"my_token": ${REDACTED_VALUE}, "tokens": "w", "token_type": "x", "tok`,
    ],
    // a literal holds no secret
    [
      `{"is_secret": true, "token": null, "secret": false, "n`,
      `{"is_secret": true, "token": null, "secret": false, "n`,
    ],
    // nothing after the key: nothing to hide
    [`{"a":1,"token":`, `{"a":1,"token":`],
  ];
  for (const [input, expected] of cases) {
    t.is(redactSecretPairs(input, isCredentialKey).text, expected, input);
    t.false(hasSecretPair(expected, isCredentialKey), expected);
  }
});

test('bytes that are not UTF-8 survive the text scan unchanged', (t) => {
  const bytes = Buffer.concat([
    Buffer.from('{"name":"'),
    Buffer.from([0xff, 0xfe, 0xc3]),
    Buffer.from(`","token":"${SECRET}","n":`),
  ]);
  const kept = stored(redactBody(b64(bytes)));
  const expected = Buffer.concat([
    Buffer.from('{"name":"'),
    Buffer.from([0xff, 0xfe, 0xc3]),
    Buffer.from(`","token":${REDACTED_VALUE},"n":`),
  ]);
  t.true(kept.equals(expected), kept.toString('latin1'));
});

test('a body that is not JSON and holds no credential is kept byte for byte', (t) => {
  for (const text of ['Body=hi&From=%2B1', '{"type":2,"data":{"name":"x"', 'plain text with a " quote']) {
    const original = b64(text);
    t.deepEqual(redactBody(original), { bodyB64: original }, text);
  }
});

test('a body that cannot be searched, or shows a credential the scan cannot reach, is not stored', (t) => {
  const utf16 = Buffer.from(`{"token":"${SECRET}"`, 'utf16le');
  t.deepEqual(redactBody(b64(utf16)), { bodyB64: '', omitted: BODY_OMITTED.notText });
  // JSON text inside a JSON string (here cut off): the key is behind escaped quotes
  const nested = JSON.stringify(JSON.stringify({ token: SECRET })).slice(0, -3);
  t.deepEqual(redactBody(b64(nested)), { bodyB64: '', omitted: BODY_OMITTED.unhandledPair });
  // a stray quote that throws the pair scan out of step
  const stray = `5" tall {"token": "${SECRET}"`;
  t.deepEqual(redactBody(b64(stray)), { bodyB64: '', omitted: BODY_OMITTED.unhandledPair });
});

test('a dead-lettered forward says why its body was left out', (t) => {
  const frame = redactFrame({
    type: 'passthrough_forward',
    forward: {
      platform: 'discord',
      headers: [],
      bodyB64: b64(Buffer.from(`{"token":"${SECRET}"`, 'utf16le')),
    },
  }) as { forward: { bodyB64: string; bodyOmitted?: string } };
  t.is(frame.forward.bodyB64, '');
  t.is(frame.forward.bodyOmitted, BODY_OMITTED.notText);
  t.false(JSON.stringify(frame).includes(SECRET));
});

test("a dead-lettered forward's path loses the credentials of its query, and keeps the rest", (t) => {
  // a webhook URL holding its own key (`?token=`, `?api_key=`) reaches the forward's path
  const frame = redactFrame({
    type: 'passthrough_forward',
    forward: {
      platform: 'twilio',
      path: `/twilio/sms?token=${SECRET}&From=%2B1555&api_key=${SECRET}x`,
      headers: [],
      bodyB64: b64('Body=hi'),
    },
  }) as { forward: { path: string } };
  t.is(frame.forward.path, '/twilio/sms?token=%5Bredacted%5D&From=%2B1555&api_key=%5Bredacted%5D');
  t.false(JSON.stringify(frame).includes(SECRET));
  // a path without a credential is stored byte for byte
  const plain = '/hook?a=1&b=%20';
  const kept = redactFrame({
    type: 'passthrough_forward',
    forward: { path: plain, headers: [], bodyB64: '' },
  });
  t.is((kept as { forward: { path: string } }).forward.path, plain);
});

// Slack's slash commands and interactivity post form-encoded bodies: the legacy verification
// `token` is a form field, and an interaction's JSON sits percent-encoded in `payload`
const SLACK_COMMAND = `token=${SECRET}&team_id=T0001&channel_id=C2147483705&command=%2Fweather&text=94070&user_name=Steve`;

test('a form-encoded body loses its credential fields and keeps the others', (t) => {
  const body = redactBody(b64(SLACK_COMMAND));
  const kept = stored(body).toString();
  t.false(kept.includes(SECRET));
  t.false('omitted' in body);
  const form = new URLSearchParams(kept);
  t.is(form.get('token'), '[redacted]');
  t.is(form.get('command'), '/weather');
  t.is(form.get('text'), '94070');
  t.is(form.get('user_name'), 'Steve');
});

test('a form field holding JSON (Slack payload=) loses the credential keys inside it', (t) => {
  const payload = JSON.stringify({ type: 'block_actions', token: SECRET, user: { id: 'U1' }, actions: [] });
  const body = redactBody(b64(`payload=${encodeURIComponent(payload)}`));
  const kept = stored(body).toString();
  t.false(kept.includes(SECRET));
  t.deepEqual(JSON.parse(new URLSearchParams(kept).get('payload') ?? ''), {
    type: 'block_actions',
    user: { id: 'U1' },
    actions: [],
  });
  // cut off inside the JSON: the pair is replaced textually
  const cut = redactBody(b64(`payload=${encodeURIComponent(payload.slice(0, 60))}`));
  t.false(stored(cut).toString().includes(SECRET.slice(0, 20)));
});

test('a form body with no credential is stored byte for byte (Twilio)', (t) => {
  const twilio = 'ToCountry=US&Body=Hello+there%21&From=%2B15017122661&MessageSid=SM1&AccountSid=AC1';
  t.is(stored(redactBody(b64(twilio))).toString(), twilio);
});

test('the usual spellings of a credential key are removed from a JSON body; their look-alikes stay', (t) => {
  const secrets = {
    access_token: SECRET,
    refresh_token: SECRET,
    botToken: SECRET,
    Token: SECRET,
    client_secret: SECRET,
    'X-Api-Key': SECRET,
    APIKey: SECRET,
    privateKey: SECRET,
    db_password: SECRET,
    credentials: { user: 'u', pass: SECRET },
  };
  const kept = {
    tokens: 3,
    token_type: 'Bearer',
    secretary: 'Ann',
    keyboard: 'qwerty',
    is_secret: true,
    token: null,
  };
  const body = redactBody(b64(JSON.stringify({ data: { ...secrets, ...kept } })));
  t.deepEqual(JSON.parse(stored(body).toString()), { data: kept });
  // a form field named like one is replaced too
  const form = new URLSearchParams(stored(redactBody(b64(`client_secret=${SECRET}&code=abc`))).toString());
  t.is(form.get('client_secret'), '[redacted]');
  t.is(form.get('code'), 'abc');
});

test('a credential value behind escaped quotes is found under any credential key name', (t) => {
  const nested = JSON.stringify(JSON.stringify({ access_token: SECRET })).slice(0, -3);
  t.deepEqual(redactBody(b64(nested)), { bodyB64: '', omitted: BODY_OMITTED.unhandledPair });
  // a placeholder, a literal or nothing after the key is no credential
  t.false(hasSecretPair('\\"access_token\\": true, \\"token\\":"[redacted]", "secret":', isCredentialKey));
  t.true(hasSecretPair(`"token":${' '.repeat(40)}"${SECRET}"`, isCredentialKey));
});

test('bodies made of backslashes and quotes are searched in one pass (they took minutes before)', (t) => {
  // 1 MiB each: the pair check used to try every run of backslashes from each of its positions
  for (const text of ['\\'.repeat(1 << 20), '\\"'.repeat(1 << 19), `{"token":"${'\\'.repeat(1 << 20)}`]) {
    const body = redactBody(b64(text));
    t.false(stored(body).toString('latin1').includes(SECRET));
    t.true(stored(body).length <= text.length);
  }
});
