/** Known secrets taken out of texts in one pass, however many there are (secret-matcher.ts). */
import test from 'ava';
import { REDACTED } from '../../core/path-keys.js';
import { SecretMatcher } from '../../core/secret-matcher.js';

const TOKEN = 'Z3ctMToxNzk1ODQyMTMyOjZjM2Q4MDQ3MTk3NzY3NjM1YTQw';

test('every one of thousands of secrets is found, wherever it sits among them', (t) => {
  const many = Array.from({ length: 5_000 }, (_, i) => `decoy-${i}-${'x'.repeat(i % 7)}`);
  const matcher = new SecretMatcher([...many, TOKEN]);
  t.is(matcher.redact(`a ${many[4_321]} b ${TOKEN} c`), `a ${REDACTED} b ${REDACTED} c`);
  t.is(matcher.redact(`${TOKEN}${TOKEN}`), `${REDACTED}${REDACTED}`);
});

test('the longest secret at a position wins, and a cut-off start ending the text is taken out', (t) => {
  const matcher = new SecretMatcher(['Bot Zm9vYmFyYmF6', 'Zm9vYmFyYmF6', TOKEN]);
  t.is(matcher.redact('auth Bot Zm9vYmFyYmF6 then Zm9vYmFyYmF6.'), `auth ${REDACTED} then ${REDACTED}.`);
  t.is(matcher.redact(`refused ${TOKEN}`.slice(0, 30)), `refused ${REDACTED}`);
  // fewer than 8 characters of a start are left: ordinary words would turn to noise
  t.is(matcher.redact('ends in Z3ctMTo'), 'ends in Z3ctMTo');
});

test('a secret percent-encoded (a URL path segment or query) or form-encoded is taken out too', (t) => {
  const key = 'c2Vj+cmV0/a2V5=';
  const phrase = 'open sesame 1234';
  const matcher = new SecretMatcher([key, phrase]);
  t.is(matcher.redact(`/webhooks/1/${encodeURIComponent(key)}/messages`), `/webhooks/1/${REDACTED}/messages`);
  t.is(matcher.redact('pass=open+sesame+1234&x=1'), `pass=${REDACTED}&x=1`);
  t.is(matcher.redact('q=open%20sesame%201234'), `q=${REDACTED}`);
  // a form as URLSearchParams writes it also encodes ! ' ( ) ~, which encodeURIComponent leaves
  const password = 'Sup3rSecret!';
  const phrased = "it's (open) sesame~";
  const forms = new SecretMatcher([password, phrased]);
  t.is(forms.redact(`${new URLSearchParams({ password })}`), `password=${REDACTED}`);
  t.is(forms.redact(`${new URLSearchParams({ q: phrased })}&x=1`), `q=${REDACTED}&x=1`);
  t.is(forms.redact(`q=${encodeURIComponent(phrased)}`), `q=${REDACTED}`);
});

test('short, empty or no secrets leave the text as it is', (t) => {
  t.is(new SecretMatcher([]).redact('nothing here'), 'nothing here');
  t.true(new SecretMatcher(['abc', undefined, '']).empty);
  t.is(new SecretMatcher(['abc', 'abcd']).redact('abc abcd'), `abc ${REDACTED}`);
  // a lone surrogate has no encoded form, and is still found as it is
  t.is(new SecretMatcher(['ab\ud800cdef']).redact('x ab\ud800cdef y'), `x ${REDACTED} y`);
});

test('a key-like URL path segment is taken out whether or not it is known; ids and words stay', (t) => {
  const none = new SecretMatcher([]);
  const discord =
    'https://discord.com/api/webhooks/1184393483943/Xy9_kLmN0pQr-StUv1WxYz2AbCdEfGh3IjKlMn4OpQr';
  t.is(
    none.redact(`posting to ${discord}/messages`),
    'posting to https://discord.com/api/webhooks/1184393483943/[redacted]/messages',
  );
  t.is(
    none.redact('POST /services/T000A/B000B/AbCdEfGh1jKlMnOpQrStUvWx failed'),
    'POST /services/T000A/B000B/[redacted] failed',
  );
  // snowflakes, UUIDs, ULIDs, words and short segments are not keys
  const kept = [
    '/interactions/discord/987654321098765432',
    '/v1/dead-letters/3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8',
    '/v1/events/01HZX3K9J8Q7W6E5R4T3Y2U1I0',
    '/twilio/status-callback-for-messages',
    '/tmp/relay-plugin-Xa1b2c/careless.js',
    // a prefixed ULID (the sidecar's own delivery and dead-letter ids), Twilio's SIDs, a
    // temp dir of a longer prefix (mkdtemp's six characters mix cases and digits)
    '/v1/deliveries/dlv_01HQ3Z8XK2M4N5P6Q7R8S9T0V1/ack',
    'POST /2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/SMa1b2c3d4e5f60718293a4b5c6d7e8f90.json',
    "ENOENT: no such file or directory, open '/tmp/relay-sidecar-store-a8Bx9Q/store.db'",
  ];
  // keys whose shape is near those: still keys
  t.is(none.redact('/x/dlv_01HQ3Z8XK2M4N5P6Q7R8S9T0V1x'), `/x/${REDACTED}`);
  t.is(none.redact('/x/Ab0123456789abcdef0123456789abcdef'), `/x/${REDACTED}`);
  t.is(none.redact('/x/relay-Sidecar-store-a8Bx9Q'), `/x/${REDACTED}`);
  for (const text of kept) t.is(none.redact(text), text);
});

test('many secrets sharing the start of what a text repeats cost a bounded search: the rest is cut', (t) => {
  // 4 000 decoys sharing 40 characters, in a text that repeats those 40 characters 400 times
  const start = 'decoy-'.padEnd(40, 'x');
  const matcher = new SecretMatcher(Array.from({ length: 4_000 }, (_, i) => `${start}${i}-never`));
  const text = `kept ${`${start} `.repeat(400)}`;
  const out = matcher.redact(text);
  t.true(out.startsWith(`kept ${start} `), out.slice(0, 60));
  t.true(out.endsWith(REDACTED));
  t.true(out.length < text.length);
  // an ordinary text against the same secrets is left whole
  t.is(matcher.redact('nothing of theirs here'), 'nothing of theirs here');
});

test('a long secret sharing its start with a text repeated in ordinary words costs what is compared: nothing is cut', (t) => {
  // a PEM key among a plugin's options, and a log line with dashed rules: every dash starts like it
  const pem = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(50)}\n-----END PRIVATE KEY-----\n`;
  const matcher = new SecretMatcher([pem]);
  const rule = '-'.repeat(72);
  const text = `weekly report\n${rule}\n| name | count |\n| a | 1 |\n${rule}\nend`.repeat(5);
  t.is(matcher.redact(text), text);
  t.is(matcher.redact(`key: ${pem} then ${rule}`), `key: ${REDACTED} then ${rule}`);
  t.is(matcher.redact(`${rule} cut ${pem}`.slice(0, 120)), `${rule} cut ${REDACTED}`);
});
