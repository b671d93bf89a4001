/**
 * What a dead letter keeps of a forward body (spec/plugins.md: an interaction token must never
 * reach the inbox): JSON loses its credential keys, a BOM is skipped as the plugins skip it, a
 * body that is not JSON (cut off, broken) keeps its bytes but not its credential values, and a
 * body that cannot be searched is not kept at all.
 */
import test from 'ava';
import { BODY_OMITTED, redactBody, redactFrame } from '../../../sidecar/inbox/redact-frame.js';
import { hasSecretPair, REDACTED_VALUE, redactSecretPairs } from '../../../sidecar/inbox/redact-text.js';

const SECRET = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmZha2V0b2tlbg';
const KEYS: ReadonlySet<string> = new Set(['token', 'secret', 'password', 'api_key', 'apiKey']);

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

test('the text scan: strings, objects and scalars as values, escaped keys, exact key names', (t) => {
  const cases: [string, string][] = [
    [`{"secret": {"a": "}", "b": [1, 2]}, "x": 1`, `{"secret": ${REDACTED_VALUE}, "x": 1`],
    [`{"password": [1, {"p": "q"`, `{"password": ${REDACTED_VALUE}`],
    [`{"api_key": 12345, "n": 1`, `{"api_key": ${REDACTED_VALUE}, "n": 1`],
    [`{"\\u0074oken": "${SECRET}", "n": 1`, `{"\\u0074oken": ${REDACTED_VALUE}, "n": 1`],
    [
      `{"text": "say \\"hi\\"", "apiKey":"k\\"ey", "n`,
      `{"text": "say \\"hi\\"", "apiKey":${REDACTED_VALUE}, "n`,
    ],
    // not credential keys: the JSON path keeps them too
    [`{"my_token": "v", "tokens": "w", "tok`, `{"my_token": "v", "tokens": "w", "tok`],
    // nothing after the key: nothing to hide
    [`{"a":1,"token":`, `{"a":1,"token":`],
  ];
  for (const [input, expected] of cases) {
    t.is(redactSecretPairs(input, KEYS).text, expected, input);
    t.false(hasSecretPair(expected, KEYS), expected);
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
