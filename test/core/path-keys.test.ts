/**
 * The rule that blanks a key-like URL path segment (secret-matcher.ts), at its edges: the one rule
 * the log side and the dead letters' stored path share (redact-frame.ts).
 */
import test from 'ava';
import { REDACTED } from '../../core/path-keys.js';
import { SecretMatcher } from '../../core/secret-matcher.js';

const rule = (text: string) => new SecretMatcher([]).redact(text);

/** Whether `actual` is `expected`, said by their ends alone (a failure must not print megabytes). */
const same = (actual: string, expected: string) =>
  actual === expected || `${actual.length} characters ending ${JSON.stringify(actual.slice(-60))}`;

/** A Discord webhook token's shape: base64url, 68 characters. */
const DISCORD_TOKEN = 'Xy9_kLmN0pQr-StUv1WxYz2AbCdEfGh3IjKlMn4OpQrStUvWxYz5AbCdEfGh6IjKlMn7';

test('short numeric ids stay, a long mixed-case base64url segment goes', (t) => {
  t.is(rule(`/webhooks/1184393483943/${DISCORD_TOKEN}`), `/webhooks/1184393483943/${REDACTED}`);
  t.is(rule('/webhooks/1184393483943/12345'), '/webhooks/1184393483943/12345');
  // 19 characters of a key's alphabet: shorter than a key is taken to be
  t.is(rule('/hooks/Ab1Cd2Ef3Gh4Ij5Kl6M'), '/hooks/Ab1Cd2Ef3Gh4Ij5Kl6M');
  t.is(rule('/hooks/Ab1Cd2Ef3Gh4Ij5Kl6Mn'), `/hooks/${REDACTED}`);
  // one case only, or no digit: a word or an id, not a key
  t.is(rule('/hooks/abcdefghijklmnopqrstuvwxyz0123'), '/hooks/abcdefghijklmnopqrstuvwxyz0123');
  t.is(rule('/hooks/AbcdefGhijklmnOpqrstuvwxyz'), '/hooks/AbcdefGhijklmnOpqrstuvwxyz');
});

test('a percent-encoded segment is judged by what it spells, and blanked whole', (t) => {
  // a base64 key as a URL carries it: its '+', '/' and '=' percent-encoded
  const key = encodeURIComponent('aW50ZXJhY3Rpb246+MTIz/NDU2Nzg5OkxFQUtFRFRPS0VO==');
  t.is(rule(`/hooks/${key}`), `/hooks/${REDACTED}`);
  t.is(rule(`/hooks/${key}/run`), `/hooks/${REDACTED}/run`);
  // words spelled with escapes: the escapes' hex digits and capitals make no key of them
  for (const words of [
    'caf%C3%A9-au-lait-and-cr%C3%A8me-br%C3%BBl%C3%A9e',
    'reports%2Fweekly%2Fsummary-notes',
  ])
    t.is(rule(`/docs/${words}`), `/docs/${words}`, words);
});

test('a percent-encoded base64 key whose own characters hold no digit still goes', (t) => {
  // was: kept — its escaped `+`, `/`, `=` gave the old rule its digit; decoded, they gave none
  // (a 20-character base64 key has no digit one time in 30, a 32-character one in 250)
  for (const key of [
    'AbCdEfGhIjKlMnOpQrSt+Uv/WxYz==',
    'aBcDeFgHiJkLmNoPqRsTuVwX==',
    'QwErTy/UiOpAsDfGhJkLzXcV',
  ])
    t.is(rule(`/hooks/${encodeURIComponent(key)}/run`), `/hooks/${REDACTED}/run`, key);
  // the same symbols escaped in lower-case words, or as they are beside capitals: no key
  t.is(rule('/docs/reports%2Fweekly%2Fsummary%3Dnotes'), '/docs/reports%2Fweekly%2Fsummary%3Dnotes');
  t.is(rule('/docs/Hello+World+From+Alice+Bob'), '/docs/Hello+World+From+Alice+Bob');
});

test('a segment ends where a URL may end it: params, a colon, an at sign, sub-delimiters', (t) => {
  t.is(rule(`/hooks/${DISCORD_TOKEN};v=1`), `/hooks/${REDACTED};v=1`);
  // was: kept whole, the colon (a custom method's, a port's) was no end the rule knew
  t.is(rule(`/hooks/${DISCORD_TOKEN}:trigger`), `/hooks/${REDACTED}:trigger`);
  t.is(rule(`POST /hooks/${DISCORD_TOKEN}: 404`), `POST /hooks/${REDACTED}: 404`);
  for (const end of ['@', '!', '$', '*', '('])
    t.is(rule(`/hooks/${DISCORD_TOKEN}${end}x`), `/hooks/${REDACTED}${end}x`, end);
});

test('a key after a delimiter within its segment goes: a bot token, a param, a URL’s user info', (t) => {
  // was: kept — a part was read only from a `/`, so what followed `:`, `;`, `@` in a segment was
  // never judged: Telegram's `/<bot id>:<token>` (the webhook path its libraries suggest) and
  // `/bot<id>:<token>/sendMessage`, a `;key=` param, a password in `https://user:<key>@host`
  const bot = 'AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
  t.is(rule(`/123456789:${bot}`), `/123456789:${REDACTED}`);
  t.is(
    rule(`POST https://api.telegram.org/bot123456789:${bot}/sendMessage: 401`),
    `POST https://api.telegram.org/bot123456789:${REDACTED}/sendMessage: 401`,
  );
  t.is(rule(`/twilio/sms;key=${DISCORD_TOKEN}?a=1`), `/twilio/sms;${REDACTED}?a=1`);
  t.is(
    rule(`https://relay:${DISCORD_TOKEN}@relay.example.com/ws`),
    `https://relay:${REDACTED}@relay.example.com/ws`,
  );
  // what a segment holds beside such delimiters that is no key stays
  for (const text of [
    '/v1/dead-letters/dl_01ARZ3NDEKTSV4RRFFQ69G5FAV:replay',
    'at /srv/app/main.js:120:17',
    'POST /hooks/x: Not Found AbCdEfGhIjKlMnOpQrStUv1',
  ])
    t.is(rule(text), text);
});

test('a key-like query name or value goes, whatever its name: Azure’s `?code=`, a bare `?<key>`', (t) => {
  // was: kept — a query's parts were never judged, and only credential-named fields lose their
  // values elsewhere: an Azure Functions key (`?code=`), a Logic Apps signature (`&sig=`), a
  // Google API key (`?key=`), a key given as the query itself
  const key = 'aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7bC9dE1fG3hI==';
  t.is(rule(`POST /api/HttpTrigger1?code=${key}: 500`), `POST /api/HttpTrigger1?code=${REDACTED}: 500`);
  t.is(
    rule(`/invoke?api-version=2016-10-01&sv=1.0&sig=${DISCORD_TOKEN}`),
    `/invoke?api-version=2016-10-01&sv=1.0&sig=${REDACTED}`,
  );
  t.is(rule(`/hook?${DISCORD_TOKEN}`), `/hook?${REDACTED}`);
  t.is(rule(`/hook?${DISCORD_TOKEN}=1&a=2`), `/hook?${REDACTED}=1&a=2`);
  // ids, words and encoded paths in a query stay; a `?` or `=` outside a URL starts nothing
  for (const text of [
    '/v1/dead-letters?after=dl_01ARZ3NDEKTSV4RRFFQ69G5FAV&limit=50',
    '/x?sp=%2Ftriggers%2Fmanual%2Frun&cursor=01ARZ3NDEKTSV4RRFFQ69G5FAV',
    'why? AbCdEfGhIjKlMnOpQrStUv1=AbCdEfGhIjKlMnOpQrStUv1',
  ])
    t.is(rule(text), text);
});

test('a very long path costs one pass: every key in it goes, the rest stays', (t) => {
  // 4 MiB of segments one character short of a key, then a key; one 8 MiB segment, ended by a
  // colon, or going on in a character no URL holds unencoded (no segment's end: kept); 2 Mi slashes
  const short = '/Ab1Cd2Ef3Gh4Ij5Kl6M'.repeat(200_000);
  t.is(same(rule(`${short}/${DISCORD_TOKEN}`), `${short}/${REDACTED}`), true);
  // was: RangeError (regexp stack) from the pattern the scan replaced
  const long = `/${'Ab1'.repeat(2_800_000)}`;
  t.is(same(rule(`${long}:x`), `/${REDACTED}:x`), true);
  t.is(same(rule(`${long}\u00e9`), `${long}\u00e9`), true);
  const slashes = '/'.repeat(2 * 1024 * 1024);
  t.is(same(rule(slashes), slashes), true);
});
